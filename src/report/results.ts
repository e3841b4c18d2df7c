/** Joins test outcomes and captured evidence onto the seed's deliverables, and judges the run. Pure. */
import type { Deliverable } from '../grader/deliverables.ts';
import type { BlockedFile, DeliverableResult, DeliverableStatus, EvidenceRecord, ReportInput, TestOutcome, TestState } from './types.ts';

/** Whether a record was captured by this test (by task id; by name for older records). */
export function sameTest(r: EvidenceRecord, t: TestOutcome): boolean {
  return r.testId ? r.testId === t.id : r.file === t.file && r.test === t.name;
}

function statusOf(tests: TestOutcome[]): DeliverableStatus {
  if (tests.some((t) => t.state === 'failed')) return 'fail';
  return tests.some((t) => t.state === 'passed') ? 'pass' : 'missing';
}

/** Stands for the tests of a blocked file that would have proved d: they failed, with the file's errors. */
function couldNotRun(d: Deliverable, b: BlockedFile): TestOutcome {
  return {
    id: `${b.file}#${d.id}`,
    file: b.file,
    name: `${b.file}: its tests for ${d.id} could not run`,
    state: 'failed',
    durationMs: 0,
    errors: b.errors,
    deliverables: [d.id],
  };
}

/**
 * A test proves a deliverable when it tagged itself with deliverable() or captured evidence
 * for it; the deliverable fails if any such test failed or one of its suites was blocked
 * (its tests could not run), and is missing if none passed.
 */
export function buildResults(list: Deliverable[], tests: TestOutcome[], evidence: EvidenceRecord[], blocked: BlockedFile[] = []): DeliverableResult[] {
  return list.map((d) => {
    const records = evidence.filter((r) => r.deliverables.includes(d.id));
    const proving = [...tests.filter((t) => t.deliverables.includes(d.id) || records.some((r) => sameTest(r, t))), ...blocked.filter((b) => d.suites.includes(b.file)).map((b) => couldNotRun(d, b))];
    return {
      ...d,
      status: statusOf(proving),
      durationMs: proving.reduce((sum, t) => sum + t.durationMs, 0),
      tests: proving,
      evidence: records,
    };
  });
}

export function countByStatus(results: { status: DeliverableStatus }[]): Record<DeliverableStatus, number> {
  const counts: Record<DeliverableStatus, number> = { pass: 0, fail: 0, missing: 0, inconclusive: 0, 'not graded': 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

export type TestTotals = { total: number } & Record<TestState, number>;

export interface RunSummary {
  /** False when any test failed, any deliverable failed or could not be judged, or anything went wrong outside the tests. */
  ok: boolean;
  /** fail when anything failed; inconclusive when nothing did but a deliverable could not be judged; else pass. */
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** Over every test of the run; undefined when the input did not carry them. */
  totals?: TestTotals;
  failures: TestOutcome[];
  /** The seed's failing deliverables; course day 6's are counted apart. */
  failedDeliverables: number;
  failedDay6: number;
  runErrors: string[];
}

function totalsOf(tests: TestOutcome[]): TestTotals {
  const totals: TestTotals = { total: tests.length, passed: 0, failed: 0, skipped: 0, todo: 0, pending: 0 };
  for (const t of tests) totals[t.state] += 1;
  return totals;
}

/** The run as a whole: what `npm test`'s exit code says, with the numbers behind it. */
export function summarizeRun(input: Pick<ReportInput, 'results' | 'day6' | 'tests' | 'runErrors'>): RunSummary {
  const failures = (input.tests ?? []).filter((t) => t.state === 'failed');
  const counts = countByStatus(input.results);
  const failedDeliverables = counts.fail;
  const failedDay6 = countByStatus(input.day6 ?? []).fail;
  const verdict = failures.length || failedDeliverables || failedDay6 || input.runErrors.length ? 'fail' : counts.inconclusive ? 'inconclusive' : 'pass';
  return {
    ok: verdict === 'pass',
    verdict,
    totals: input.tests && totalsOf(input.tests),
    failures,
    failedDeliverables,
    failedDay6,
    runErrors: input.runErrors,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line for a terminal or a headline: the verdict first, then what it rests on. */
export function runLine(s: RunSummary): string {
  const t = s.totals;
  const tests = t ? `tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t.todo} todo${t.pending ? `, ${t.pending} pending` : ''}` : 'test totals not captured';
  const extra = [
    s.runErrors.length ? plural(s.runErrors.length, 'run error') : '',
    s.failedDeliverables ? plural(s.failedDeliverables, 'failing deliverable') : '',
    s.failedDay6 ? plural(s.failedDay6, 'failing day-6 deliverable') : '',
  ].filter(Boolean);
  return [`run ${s.verdict === 'pass' ? 'passed' : s.verdict === 'fail' ? 'FAILED' : 'INCONCLUSIVE'}`, tests, ...extra].join(' · ');
}

/** The seed's counts, then course day 6's apart: `deliverables: 27 pass, 0 fail, 0 missing; day 6: 6 pass, 0 fail, 0 missing`. */
export function deliverablesLine(input: Pick<ReportInput, 'results' | 'day6'>): string {
  const line = (results: { status: DeliverableStatus }[]) => {
    const c = countByStatus(results);
    return `${c.pass} pass, ${c.fail} fail, ${c.missing} missing`;
  };
  return `deliverables: ${line(input.results)}${input.day6 ? `; day 6: ${line(input.day6)}` : ''}`;
}

/** A deliverable's entry in results.json: without the bulky evidence. */
function deliverableJson({ id, task, points, title, epic, feature, status, durationMs, tests }: DeliverableResult) {
  return {
    id,
    task,
    points,
    title,
    epic,
    feature,
    status,
    durationMs: Math.round(durationMs),
    tests: tests.map(({ name, file, state, durationMs: ms, errors }) => ({
      name,
      file,
      state,
      durationMs: Math.round(ms),
      errors,
    })),
  };
}

/**
 * The results.json shape: results without the bulky evidence, with the run's verdict (`ok`, and
 * `verdict`: runLine's words, which the CI job summary prints) and totals; course day 6's apart, under `day6`.
 */
export function resultsJson(input: ReportInput, run: RunSummary = summarizeRun(input)) {
  return {
    generatedAt: input.generatedAt,
    mode: input.meta?.mode ?? 'not captured',
    ok: run.ok,
    verdict: runLine(run),
    tests: {
      ...run.totals,
      failures: run.failures.map(({ name, file, errors }) => ({ name, file, errors })),
    },
    runErrors: run.runErrors,
    counts: countByStatus(input.results),
    ...(input.score ? { score: input.score } : {}),
    diagnoses: input.live?.diagnoses ?? [],
    deviations: input.live?.deviations ?? [],
    advice: input.live?.advice ?? [],
    deliverables: input.results.map(deliverableJson),
    ...(input.day6 ? { day6: { counts: countByStatus(input.day6), deliverables: input.day6.map(deliverableJson) } } : {}),
  };
}

export type ResultsJson = ReturnType<typeof resultsJson>;
