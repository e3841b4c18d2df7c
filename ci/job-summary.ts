/**
 * `node ci/job-summary.ts`: appends the deliverable verdicts from reports/results.json to the
 * GitHub job summary ($GITHUB_STEP_SUMMARY), or prints them when run outside Actions.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportPaths } from '../src/report/paths.ts';
import type { ResultsJson } from '../src/report/results.ts';
import { readJson } from '../src/util/read-json.ts';

const icon = { pass: '✅ pass', fail: '❌ fail', missing: '⚠️ missing', inconclusive: '❔ inconclusive', 'not graded': '➖ not graded' } as const;

/** Markdown table cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** reports/mutation.json's score, written by the grader's mutation suite (suites/grader). */
export interface MutationScore {
  killed: number;
  survived: number;
  misattributed: number;
  mutants: number;
}

export function jobSummary(results: ResultsJson | undefined, mutation?: MutationScore): string {
  if (!results) return '## ecomnet deliverables\n\nNo reports/results.json: the test run did not get as far as reporting.\n';
  const { pass, fail, missing, inconclusive } = results.counts;
  const row = (d: ResultsJson['deliverables'][number]) => {
    // The diagnosis says why in the lab's terms; the test's first error line when there is none.
    const causes = d.status === 'pass' ? [] : results.diagnoses.filter((x) => x.deliverables.includes(d.id)).map((x) => `${x.cause} Fix: \`${x.fix}\``);
    const why = causes.join(' ') || (d.tests.find((t) => t.state === 'failed')?.errors[0]?.split('\n')[0] ?? '');
    return `| ${icon[d.status]} | \`${d.id}\` | ${cell(d.title)} | ${cell(why)} |`;
  };
  const rows = results.deliverables.map(row);
  const day6 = results.day6;
  // Course day 6 apart: the seed's counts and score stay the seed's 27.
  const day6Table = day6
    ? [
        `**Course day 6 (two hosts): ${day6.counts.pass} pass, ${day6.counts.fail} fail${day6.counts.missing ? `, ${day6.counts.missing} missing` : ''}**`,
        '',
        '| Status | Deliverable | Title | Failure |',
        '| --- | --- | --- | --- |',
        ...day6.deliverables.map(row),
        '',
      ]
    : [];
  const advice = results.advice.map((x) => `- 💡 ${cell(x.text)}`);
  const deviations = results.deviations.map((x) => `- ℹ️ ${cell(x.text)} (${x.deliverables.map((id) => `\`${id}\``).join(', ')})`);
  const t = results.tests;
  const failures = [...t.failures.map((f) => `- ❌ \`${f.file}\` › ${cell(f.name)}: ${cell(f.errors[0]?.split('\n')[0] ?? '')}`), ...results.runErrors.map((e) => `- ❌ ${cell(e.split('\n')[0]!)}`)];
  return [
    '## ecomnet deliverables',
    '',
    // The run's verdict comes first, in the reporter's words: a failing test that proves no deliverable still makes it red.
    `**${results.ok ? '✅' : '❌'} ${results.verdict}**`,
    ...(failures.length ? ['', ...failures] : []),
    '',
    `**Deliverables: ${pass} pass, ${fail} fail${missing ? `, ${missing} missing` : ''}${inconclusive ? `, ${inconclusive} inconclusive` : ''}**${results.score ? ` · score: ${results.score.points}/${results.score.max}` : ` · deliverables: ${pass}/${results.deliverables.length} passed`} · mode: ${results.mode} · ${results.generatedAt}`,
    '',
    ...(deviations.length ? ['Deviations from the seed, accepted:', '', ...deviations, ''] : []),
    ...(advice.length ? ["Advice (not part of the seed's contract):", '', ...advice, ''] : []),
    '| Status | Deliverable | Title | Diagnosis or failure |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    ...day6Table,
    ...(mutation
      ? [`**Mutation testing of the grader: ${mutation.killed}/${mutation.mutants} killed, ${mutation.survived} survived, ${mutation.misattributed} misattributed** (reports/mutation.json)`, '']
      : []),
    'The full report with terminal output is reports/deliverables.html in the `reports` artifact.',
    '',
  ].join('\n');
}

if (import.meta.main) {
  const file = reportPaths().results;
  const results = readJson<ResultsJson>(file);
  const mutation = readJson<{ score: MutationScore }>(join(reportPaths().reports, 'mutation.json'))?.score;
  const markdown = jobSummary(results, mutation);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown);
  else process.stdout.write(markdown);
}
