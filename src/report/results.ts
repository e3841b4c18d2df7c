/** Joins test outcomes and captured evidence onto the seed's deliverables. Pure. */
import type { Deliverable } from './deliverables.ts';
import type { DeliverableResult, DeliverableStatus, EvidenceRecord, TestOutcome } from './types.ts';

/** Whether a record was captured by this test (by task id; by name for older records). */
export function sameTest(r: EvidenceRecord, t: TestOutcome): boolean {
  return r.testId ? r.testId === t.id : r.file === t.file && r.test === t.name;
}

function statusOf(tests: TestOutcome[]): DeliverableStatus {
  if (tests.some((t) => t.state === 'failed')) return 'fail';
  return tests.some((t) => t.state === 'passed') ? 'pass' : 'missing';
}

/**
 * A test proves a deliverable when it tagged itself with deliverable() or captured evidence
 * for it; the deliverable fails if any such test failed and is missing if none passed.
 */
export function buildResults(
  list: Deliverable[],
  tests: TestOutcome[],
  evidence: EvidenceRecord[],
): DeliverableResult[] {
  return list.map((d) => {
    const records = evidence.filter((r) => r.deliverables.includes(d.id));
    const proving = tests.filter(
      (t) => t.deliverables.includes(d.id) || records.some((r) => sameTest(r, t)),
    );
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
  const counts: Record<DeliverableStatus, number> = { pass: 0, fail: 0, missing: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

/** The results.json shape: results without the bulky evidence. */
export function resultsJson(results: DeliverableResult[], generatedAt: string, mode: string | undefined) {
  return {
    generatedAt,
    mode: mode ?? 'not captured',
    counts: countByStatus(results),
    deliverables: results.map(({ id, title, epic, feature, status, durationMs, tests }) => ({
      id,
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
    })),
  };
}

export type ResultsJson = ReturnType<typeof resultsJson>;
