import { describe, expect, it } from 'vitest';
import { deliverables } from '../../src/report/deliverables.ts';
import { buildResults, resultsJson } from '../../src/report/results.ts';
import type { EvidenceRecord, TestOutcome } from '../../src/report/types.ts';

const [first, second] = deliverables.map((d) => d.id) as [string, string];

function test(id: string, state: TestOutcome['state'], tags: string[] = []): TestOutcome {
  return { id, file: '/s.test.ts', name: `test ${id}`, state, durationMs: 5, errors: state === 'failed' ? ['boom'] : [], deliverables: tags };
}

function evidence(t: TestOutcome, tags: string[], withId = true): EvidenceRecord {
  return { command: 'true', stdout: '', stderr: '', exitCode: 0, durationMs: 1, at: '2025-01-01T00:00:00.000Z', file: t.file, test: t.name, testId: withId ? t.id : undefined, deliverables: tags };
}

describe('buildResults', () => {
  it('fails a deliverable when any test proving it failed', () => {
    const [r] = buildResults(deliverables, [test('a', 'passed', [first]), test('b', 'failed', [first])], []);
    expect(r).toMatchObject({ id: first, status: 'fail', durationMs: 10 });
  });

  it('counts a test that failed before capturing anything, through its tag', () => {
    const [r] = buildResults(deliverables, [test('a', 'failed', [first])], []);
    expect(r!.status).toBe('fail');
  });

  it('joins evidence to tests by task id, and by file and name for untagged records', () => {
    const a = test('a', 'passed');
    const b = test('b', 'passed');
    const results = buildResults(deliverables, [a, b], [evidence(a, [first]), evidence(b, [second], false)]);
    expect(results[0]!.tests.map((t) => t.id)).toEqual(['a']);
    expect(results[1]!.tests.map((t) => t.id)).toEqual(['b']);
    expect(results[1]!.status).toBe('pass');
  });

  it('reports a deliverable as missing when nothing passed or failed for it', () => {
    const results = buildResults(deliverables, [test('a', 'skipped', [first])], []);
    expect(results.map((r) => r.status)).toEqual(deliverables.map(() => 'missing'));
  });

  it('writes results.json without evidence, with counts and mode', () => {
    const results = buildResults(deliverables, [test('a', 'passed', [first])], []);
    const json = resultsJson(results, 'now', undefined);
    expect(json.mode).toBe('not captured');
    expect(json.counts).toEqual({ pass: 1, fail: 0, missing: 26 });
    expect(json.deliverables[0]).toEqual({ id: first, title: deliverables[0]!.title, epic: deliverables[0]!.epic, feature: deliverables[0]!.feature, status: 'pass', durationMs: 5, tests: [{ name: 'test a', file: '/s.test.ts', state: 'passed', durationMs: 5, errors: [] }] });
  });
});
