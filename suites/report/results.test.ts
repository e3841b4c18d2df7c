import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { relativeTo } from '../../src/report/paths.ts';
import { buildResults, resultsJson, runLine, summarizeRun } from '../../src/report/results.ts';
import type { EvidenceRecord, TestOutcome } from '../../src/report/types.ts';

const [first, second] = deliverables.map((d) => d.id) as [string, string];

function test(id: string, state: TestOutcome['state'], tags: string[] = []): TestOutcome {
  return { id, file: 'suites/s.test.ts', name: `test ${id}`, state, durationMs: 5, errors: state === 'failed' ? ['boom'] : [], deliverables: tags };
}

function evidence(t: TestOutcome, tags: string[], withId = true): EvidenceRecord {
  return { command: 'true', stdout: '', stderr: '', exitCode: 0, durationMs: 1, at: '2025-01-01T00:00:00.000Z', file: t.file, test: t.name, testId: withId ? t.id : undefined, deliverables: tags };
}

/** One passing, tagged test per deliverable: 27 out of 27. */
const allProved = () => deliverables.map((d) => test(d.id, 'passed', [d.id]));

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

  it('fails exactly the deliverables a blocked file proves, with its errors, even where another test passed', () => {
    const file = 'suites/phase2/order.test.ts';
    const results = buildResults(deliverables, allProved(), [], [{ file, errors: ['beforeAll: database is down'] }]);
    const failed = results.filter((r) => r.status === 'fail');
    expect(failed.map((r) => r.id)).toEqual(deliverables.filter((d) => d.suites.includes(file)).map((d) => d.id));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.tests.find((t) => t.state === 'failed')).toMatchObject({ file, errors: ['beforeAll: database is down'] });
  });
});

describe('summarizeRun', () => {
  it('is red when an untagged test failed, though all 27 deliverables pass', () => {
    const tests = [...allProved(), test('rounding', 'failed'), test('later', 'todo'), test('off', 'skipped')];
    const results = buildResults(deliverables, tests, []);
    expect(results.every((r) => r.status === 'pass')).toBe(true);
    const run = summarizeRun({ results, tests, runErrors: [] });
    expect(run.ok).toBe(false);
    expect(run.totals).toEqual({ total: 30, passed: 27, failed: 1, skipped: 1, todo: 1, pending: 0 });
    expect(run.failures.map((t) => t.name)).toEqual(['test rounding']);
    expect(runLine(run)).toBe('run FAILED · tests: 27 passed, 1 failed, 1 skipped, 1 todo');
  });

  it('is red on a run error alone, and green only with no failure anywhere', () => {
    const tests = allProved();
    const results = buildResults(deliverables, tests, []);
    expect(summarizeRun({ results, tests, runErrors: [] }).ok).toBe(true);
    const broken = summarizeRun({ results, tests, runErrors: ['platform global teardown: the host is not as it was'] });
    expect(broken.ok).toBe(false);
    expect(runLine(broken)).toBe('run FAILED · tests: 27 passed, 0 failed, 0 skipped, 0 todo · 1 run error');
  });

  it("is red on a failing deliverable when the run's tests were not given", () => {
    const results = buildResults(deliverables, [test('a', 'failed', [first])], []);
    const run = summarizeRun({ results, runErrors: [] });
    expect(run).toMatchObject({ ok: false, totals: undefined, failedDeliverables: 1 });
    expect(runLine(run)).toBe('run FAILED · test totals not captured · 1 failing deliverable');
  });
});

describe('resultsJson', () => {
  it("writes the verdict, every test's totals and failures, and the deliverables without evidence", () => {
    const tests = [test('a', 'passed', [first]), test('b', 'failed')];
    const results = buildResults(deliverables, tests, []);
    const json = resultsJson({ generatedAt: 'now', title: topology.tag, results, tests, runErrors: ['suites/x.test.ts: cannot load'] });
    expect(json.mode).toBe('not captured');
    expect(json.ok).toBe(false);
    expect(json.tests).toEqual({ total: 2, passed: 1, failed: 1, skipped: 0, todo: 0, pending: 0, failures: [{ name: 'test b', file: 'suites/s.test.ts', errors: ['boom'] }] });
    expect(json.runErrors).toEqual(['suites/x.test.ts: cannot load']);
    expect(json.counts).toEqual({ pass: 1, fail: 0, missing: 26, inconclusive: 0, 'not graded': 0 });
    expect(json.deliverables[0]).toEqual({
      id: first,
      task: deliverables[0]!.task,
      points: deliverables[0]!.points,
      title: deliverables[0]!.title,
      epic: deliverables[0]!.epic,
      feature: deliverables[0]!.feature,
      status: 'pass',
      durationMs: 5,
      tests: [{ name: 'test a', file: 'suites/s.test.ts', state: 'passed', durationMs: 5, errors: [] }],
    });
  });
});

describe('relativeTo', () => {
  it('takes the repository root out of paths and messages, and nothing else', () => {
    const root = '/home/ci/work/ecomnet';
    expect(relativeTo(root, `${root}/suites/phase1/bridge.test.ts`)).toBe('suites/phase1/bridge.test.ts');
    expect(relativeTo(root, root)).toBe('.');
    expect(relativeTo(root, `ENOENT: open '${root}/reports/x.json' (cwd ${root})`)).toBe("ENOENT: open 'reports/x.json' (cwd .)");
    expect(relativeTo(root, `${root}-old/a.ts and ${root}2/b.ts`)).toBe(`${root}-old/a.ts and ${root}2/b.ts`);
    expect(relativeTo('/a.b', '/axb/c /a.b/c')).toBe('/axb/c c');
  });
});
