/**
 * The reports of one graded build, written from the grader's result by the process that asked
 * for it (as the user who asked, whatever ran the build): deliverables.html and results.json as
 * npm test writes them, junit.xml for CI, classroom.json for GitHub Classroom's autograding
 * reporter (per-deliverable points: partial credit), and the build's log when there was one.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deliverables } from '../grader/deliverables.ts';
import type { GradeResult, OutcomeData, Status } from '../grader/grade.ts';
import { esc } from '../util/text.ts';
import { Redactor } from './redact.ts';
import { renderDeliverables } from './render.ts';
import { resultsJson, summarizeRun } from './results.ts';
import { type DeliverableResult, type EvidenceRecord, type ReportInput, type TestOutcome, type TestState, VERIFY_MODE } from './types.ts';

/** Where the checks live: what the reports name as the file that proved a deliverable. */
const CHECKS = 'src/grader/checks';

const STATE: Record<OutcomeData['verdict'], TestState> = { pass: 'passed', fail: 'failed', inconclusive: 'skipped' };

function testOf(o: OutcomeData): TestOutcome {
  return {
    id: o.id,
    file: CHECKS,
    name: o.title,
    state: STATE[o.verdict],
    durationMs: o.durationMs,
    startedAt: o.startedAt,
    errors: o.verdict === 'fail' && o.reason ? [o.reason] : [],
    ...(o.verdict === 'inconclusive' ? { note: `inconclusive: ${o.reason ?? 'the grader could not judge'}` } : {}),
    deliverables: [o.deliverable],
  };
}

const evidenceOf = (o: OutcomeData): EvidenceRecord[] => o.evidence.map((c) => ({ ...c, file: CHECKS, test: o.title, testId: o.id, deliverables: [o.deliverable] }));

/** The grade as the report's input: each deliverable with the checks that judged it and what they ran. */
export function reportInput(r: GradeResult, title: string): ReportInput {
  const results: DeliverableResult[] = deliverables.map((d) => {
    const v = r.deliverables.find((x) => x.id === d.id);
    const mine = r.outcomes.filter((o) => o.deliverable === d.id);
    return { ...d, status: v?.status ?? 'not graded', durationMs: mine.reduce((s, o) => s + o.durationMs, 0), tests: mine.map(testOf), evidence: mine.flatMap(evidenceOf) };
  });
  return {
    generatedAt: new Date().toISOString(),
    title,
    score: r.score,
    results,
    tests: r.outcomes.map(testOf),
    runErrors: r.errors,
    meta: { mode: `${VERIFY_MODE} (outside: ${r.host.outside})`, kernel: r.host.kernel, iptablesBackend: r.host.iptablesBackend, node: r.host.node, startedAt: r.startedAt },
    ...(r.matrix ? { matrix: r.matrix } : {}),
    ...(r.diagram ? { live: { svg: r.diagram.svg, findings: r.diagram.findings, diagnoses: r.diagnoses, deviations: r.deviations, advice: r.advice } } : {}),
  };
}

const CLASSROOM: Record<Exclude<Status, 'not graded'>, 'pass' | 'fail' | 'error'> = { pass: 'pass', fail: 'fail', inconclusive: 'error' };

/** GitHub Classroom's autograding result (version 1): a test per graded deliverable, its points when it passed. */
export function classroomResult(r: GradeResult) {
  const graded = r.deliverables.filter((d) => d.status !== 'not graded');
  const tests = graded.map((d) => {
    const took = r.outcomes.filter((o) => o.deliverable === d.id).reduce((s, o) => s + o.durationMs, 0);
    const causes = r.diagnoses.filter((f) => f.deliverables.includes(d.id)).map((f) => `${f.cause} Fix: ${f.fix}`);
    return {
      name: `${d.id} ${d.title}`,
      status: CLASSROOM[d.status as Exclude<Status, 'not graded'>],
      score: d.status === 'pass' ? d.points : 0,
      message: d.status === 'pass' ? '' : [d.reason ?? '', ...causes].filter(Boolean).join('\n'),
      test_code: `ecomnet verify --only ${d.id}`,
      filename: '',
      line_no: 0,
      execution_time: `${(took / 1000).toFixed(2)}s`,
    };
  });
  return { version: 1, status: r.verdict === 'pass' ? 'pass' : r.verdict === 'fail' ? 'fail' : 'error', max_score: r.score.max, tests };
}

/** JUnit XML: a test case per check, a failure or a skip (inconclusive) with its reason. */
export function junitXml(r: GradeResult): string {
  const cases = r.outcomes.map((o) => {
    const body = o.verdict === 'fail' ? `<failure message="${esc(o.reason ?? '')}"/>` : o.verdict === 'inconclusive' ? `<skipped message="${esc(`inconclusive: ${o.reason ?? ''}`)}"/>` : '';
    return `    <testcase classname="${esc(o.deliverable)}" name="${esc(o.title)}" time="${(o.durationMs / 1000).toFixed(3)}">${body}</testcase>`;
  });
  const failures = r.outcomes.filter((o) => o.verdict === 'fail').length;
  const skipped = r.outcomes.filter((o) => o.verdict === 'inconclusive').length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ecomnet verify" tests="${r.outcomes.length}" failures="${failures}" errors="0" time="${(r.durationMs / 1000).toFixed(3)}">
  <testsuite name="seed deliverables" tests="${r.outcomes.length}" failures="${failures}" skipped="${skipped}" errors="0">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

export interface ReportOptions {
  title?: string;
  /** The build's log, copied beside the reports. */
  buildLog?: string;
  /** Passwords the grader was given: never written. */
  secrets?: string[];
}

/** Writes the reports of `r` into `dir`; returns the page's path. */
export function writeGradeReports(r: GradeResult, dir: string, o: ReportOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const input = reportInput(r, o.title ?? 'verify');
  const run = summarizeRun(input);
  const clean = new Redactor([]);
  clean.add(o.secrets ?? []);
  const write = (name: string, text: string) => writeFileSync(join(dir, name), clean.redact(text));
  write('deliverables.html', renderDeliverables(input, run));
  write('results.json', `${JSON.stringify({ ...resultsJson(input, run), exitVerdict: r.verdict }, null, 2)}\n`);
  write('junit.xml', junitXml(r));
  write('classroom.json', `${JSON.stringify(classroomResult(r), null, 2)}\n`);
  if (o.buildLog && existsSync(o.buildLog) && o.buildLog !== join(dir, 'build.log')) copyFileSync(o.buildLog, join(dir, 'build.log'));
  return join(dir, 'deliverables.html');
}
