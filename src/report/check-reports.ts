/**
 * `node src/report/check-reports.ts`: after a full run, checks that every report is there and that
 * each of the 27 seed deliverables is in it with a verdict (a deliverable no test proved fails), and
 * course day 6's alike wherever results.json carries them (a reporter older than day 6 did not).
 */
import { existsSync, readFileSync } from 'node:fs';
import { deliverables } from '../grader/deliverables.ts';
import { day6Deliverables } from '../grader/day6/deliverables.ts';
import { reportPaths } from './paths.ts';
import type { ResultsJson } from './results.ts';
import { readJson } from '../util/read-json.ts';

function day6Problems(reported: { id: string; status: string }[], html: string | undefined): string[] {
  return day6Deliverables.flatMap((d) => {
    const r = reported.find((x) => x.id === d.id);
    return [
      ...(html !== undefined && !html.includes(`data-deliverable="${d.id}"`) ? [`deliverables.html lacks ${d.id}`] : []),
      ...(!r ? [`results.json lacks ${d.id}`] : r.status === 'missing' ? [`${d.id} has no evidence: no test proved it`] : []),
    ];
  });
}

/** Every problem found; an empty list means the run left a complete report. */
export function verifyReports(root: string = process.cwd()): string[] {
  const p = reportPaths(root);
  const problems: string[] = [];
  for (const file of [p.html, p.results, p.junit, p.allureHtml]) {
    if (!existsSync(file)) problems.push(`missing ${file}`);
  }
  if (existsSync(p.html)) {
    const html = readFileSync(p.html, 'utf8');
    for (const d of deliverables) {
      if (!html.includes(`data-deliverable="${d.id}"`)) problems.push(`deliverables.html lacks ${d.id}`);
    }
  }
  if (existsSync(p.junit) && !readFileSync(p.junit, 'utf8').includes('<testsuites')) {
    problems.push('junit.xml has no <testsuites>');
  }
  if (existsSync(p.results)) {
    const results = readJson<ResultsJson>(p.results);
    if (!results) problems.push('results.json is not valid JSON');
    else if (typeof results.ok !== 'boolean' || typeof results.tests?.total !== 'number') problems.push('results.json lacks the run verdict and test totals');
    for (const d of deliverables) {
      const r = results?.deliverables.find((x) => x.id === d.id);
      if (results && !r) problems.push(`results.json lacks ${d.id}`);
      if (r?.status === 'missing') problems.push(`${d.id} has no evidence: no test proved it`);
    }
    if (results?.day6) problems.push(...day6Problems(results.day6.deliverables, existsSync(p.html) ? readFileSync(p.html, 'utf8') : undefined));
  }
  return problems;
}

if (import.meta.main) {
  const problems = verifyReports();
  for (const problem of problems) console.error(`verify: ${problem}`);
  console.log(problems.length ? `verify: ${problems.length} problem(s)` : `verify: all ${deliverables.length} deliverables reported`);
  process.exitCode = problems.length ? 1 : 0;
}
