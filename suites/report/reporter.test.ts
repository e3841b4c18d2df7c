/**
 * DeliverablesReporter against real Vitest runs: each scenario writes a small project of test
 * files into a temporary root, named like the real suites so Deliverable.suites applies, runs
 * Vitest on it with only this reporter, and reads the reports it left.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import { deliverables } from '../../src/grader/deliverables.ts';
import { day6Deliverables } from '../../src/grader/day6/deliverables.ts';
import { reportPaths } from '../../src/report/paths.ts';
import DeliverablesReporter from '../../src/report/reporter.ts';
import type { ResultsJson } from '../../src/report/results.ts';

interface Run {
  root: string;
  json: ResultsJson;
  html: string;
  /** What the reporter printed. */
  log: string;
}

const runErrorsModule = JSON.stringify(resolve('src/report/run-errors.ts'));
const pathsModule = JSON.stringify(resolve('src/report/paths.ts'));

/** A global setup file whose setup or teardown fails, recorded as setup/global-setup.ts records it. */
function failingSetup(stage: 'setup' | 'teardown', message: string): string {
  const fail = `recordFailureOf('platform global ${stage}', async () => { throw new Error(${JSON.stringify(message)}); }, reportPaths(project.config.root))`;
  return `import { recordFailureOf } from ${runErrorsModule};
import { reportPaths } from ${pathsModule};
export default async function (project) {
  ${stage === 'setup' ? `await ${fail};` : `return () => ${fail};`}
}
`;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function run(files: (root: string) => Record<string, string>, globalSetup?: string): Promise<Run> {
  const root = mkdtempSync(join(tmpdir(), 'ecomnet-reporter-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files(root))) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  let log = '';
  const sink = new Writable({
    write: (chunk, _, done) => {
      log += String(chunk);
      done();
    },
  });
  // A failed inner run sets the exit code of this worker; the outer run's verdict is not its business.
  const exitCode = process.exitCode;
  try {
    await startVitest([], { root, config: false, watch: false, reporters: [new DeliverablesReporter({ root })], globalSetup: globalSetup ? [globalSetup] : [] }, {}, { stdout: sink, stderr: sink });
  } finally {
    process.exitCode = exitCode;
  }
  const p = reportPaths(root);
  return { root, json: JSON.parse(readFileSync(p.results, 'utf8')) as ResultsJson, html: readFileSync(p.html, 'utf8'), log };
}

const statusOf = (r: Run, id: string) => r.json.deliverables.find((d) => d.id === id)!.status;
const provedBy = (file: string) => deliverables.filter((d) => d.suites.includes(file)).map((d) => d.id);
const ORDER = 'suites/phase2/order.test.ts';

describe('a run with a failed beforeAll, a file that does not load, a failed afterAll and an untagged failure', () => {
  let r: Run;

  beforeAll(async () => {
    r = await run((root) => ({
      'suites/phase1/bridge.test.ts': `import { appendFileSync, mkdirSync } from 'node:fs';
import { it } from 'vitest';
const dir = ${JSON.stringify(reportPaths(root).evidence)};
it('the bridge', ({ task }) => { task.meta.deliverables = ['1.2-bridge', '1.2-veth']; });
it('the diagram', ({ task }) => {
  // An evidence record as an older writer left it: no task id, the test file's absolute path.
  mkdirSync(dir, { recursive: true });
  appendFileSync(dir + '/w.jsonl', JSON.stringify({ command: 'ip -br link', stdout: 'br-app UP', stderr: '', exitCode: 0, durationMs: 1, at: new Date().toISOString(), file: task.file.filepath, test: task.fullTestName, deliverables: ['1.2-diagram'] }) + '\\n');
});
`,
      'suites/phase1/namespaces.test.ts': `import { it } from 'vitest';
throw new Error('cannot load ${root}/src/topology/default.ts');
it('never collected', () => {});
`,
      [ORDER]: `import { beforeAll, describe, it } from 'vitest';
describe('2.4 order service', () => {
  beforeAll(() => { throw new Error('database is down: ${root}/run/pg.sock'); });
  it('order-service listens', ({ task }) => { task.meta.deliverables = ['2.4-order-listening']; });
  it('an order is written', ({ task }) => { task.meta.deliverables = ['2.4-order-written']; });
});
`,
      'suites/phase2/nginx.test.ts': `import { afterAll, it } from 'vitest';
afterAll(() => { throw new Error('nginx would not stop'); });
it('health from the host', ({ task }) => { task.meta.deliverables = ['2.1-health-host']; });
it('health from a namespace', ({ task }) => { task.meta.deliverables = ['2.1-health-namespace']; });
it.skipIf(true)('only in the other data mode', () => {});
`,
      'suites/unit/other.test.ts': `import { expect, it } from 'vitest';
it('totals round to cents', () => { expect(0.1 + 0.2).toBe(0.3); });
it.skip('off', () => {});
it.todo('later');
it('passes', () => {});
`,
    }));
  }, 60_000);

  it('counts every test and lists the failure no deliverable owns', () => {
    expect(r.json.ok).toBe(false);
    expect(r.json.tests).toEqual({
      total: 11,
      passed: 5,
      failed: 1,
      skipped: 4,
      todo: 1,
      pending: 0,
      failures: [{ name: 'totals round to cents', file: 'suites/unit/other.test.ts', errors: [expect.stringContaining('expected 0.30000000000000004 to be 0.3')] }],
    });
  });

  it('lists the hooks and the module that failed as run errors', () => {
    // In the order Vitest lists the files, which is not promised.
    expect([...r.json.runErrors].sort()).toEqual([
      'suites/phase1/namespaces.test.ts: Error: cannot load src/topology/default.ts',
      'suites/phase2/nginx.test.ts: Error: nginx would not stop',
      'suites/phase2/order.test.ts > 2.4 order service: Error: database is down: run/pg.sock',
    ]);
  });

  it('fails the deliverables of a file whose beforeAll failed or that did not load, with the error', () => {
    expect(provedBy(ORDER).length).toBeGreaterThan(1);
    for (const id of provedBy(ORDER)) {
      const d = r.json.deliverables.find((x) => x.id === id)!;
      expect(d.status, id).toBe('fail');
      expect(d.tests).toEqual([expect.objectContaining({ file: ORDER, state: 'failed', errors: ['Error: database is down: run/pg.sock'] })]);
    }
    expect(statusOf(r, '1.1-netns-list')).toBe('fail');
    expect(r.json.deliverables.find((d) => d.id === '1.1-netns-list')!.tests[0]!.errors).toEqual(['Error: cannot load src/topology/default.ts']);
  });

  it('keeps what ran: an afterAll failing after its tests (and a skipIf) does not fail their deliverables', () => {
    for (const id of ['1.2-bridge', '1.2-veth', '2.1-health-host', '2.1-health-namespace']) expect(statusOf(r, id), id).toBe('pass');
    expect(statusOf(r, '2.3-redis-listening')).toBe('missing');
  });

  it('writes no path of this machine: files, errors and evidence are relative to the root', () => {
    expect(JSON.stringify(r.json)).not.toContain(r.root);
    expect(r.html).not.toContain(r.root);
    // Joined by file and name only, so it proves the evidence's absolute path was made relative too.
    expect(statusOf(r, '1.2-diagram')).toBe('pass');
    expect(r.html).toContain('suites/phase1/bridge.test.ts');
  });

  it('heads the page with the red verdict and prints the totals', () => {
    expect(r.html).toMatch(/<p class="verdict failed" data-ok="false">run FAILED · tests: 5 passed, 1 failed, 4 skipped, 1 todo · 3 run errors · 7 failing deliverables/);
    expect(r.html).toContain('totals round to cents');
    expect(r.log).toContain('run FAILED · tests: 5 passed, 1 failed, 4 skipped, 1 todo · 3 run errors · 7 failing deliverables\n');
    // Course day 6 is counted apart: its suite did not run, so each of its deliverables is missing, never pass.
    expect(r.log).toContain(`deliverables: 5 pass, 7 fail, 15 missing; day 6: 0 pass, 0 fail, ${day6Deliverables.length} missing -> reports/deliverables.html`);
    expect(r.json.day6!.deliverables.map((d) => d.status)).toEqual(day6Deliverables.map(() => 'missing'));
  });
});

describe('a run of the two-host suite: day 6 judged per deliverable, apart from the seed', () => {
  it('passes the day-6 deliverable whose test passed, fails the one whose test failed, and leaves the untagged missing', async () => {
    const [ok, bad] = day6Deliverables;
    const r = await run(() => ({
      'suites/vhost/two-hosts.test.ts': `import { expect, it } from 'vitest';
it('${ok!.id}', ({ task }) => { task.meta.deliverables = ['${ok!.id}']; });
it('${bad!.id}', ({ task }) => { task.meta.deliverables = ['${bad!.id}']; expect('fail').toBe('pass'); });
`,
    }));
    const status = Object.fromEntries(r.json.day6!.deliverables.map((d) => [d.id, d.status]));
    expect(status).toEqual(Object.fromEntries(day6Deliverables.map((d) => [d.id, d === ok ? 'pass' : d === bad ? 'fail' : 'missing'])));
    expect(r.json.counts).toMatchObject({ pass: 0, fail: 0, missing: 27 });
    expect(r.html).toContain('<h2>Course day 6: two hosts</h2>');
    expect(r.log).toContain(`day 6: 1 pass, 1 fail, ${day6Deliverables.length - 2} missing`);
  }, 60_000);
});

describe('global setup and teardown failures, which Vitest does not hand to reporters', () => {
  const namespaces = { 'suites/phase1/namespaces.test.ts': `import { it } from 'vitest';\nit('lists them', ({ task }) => { task.meta.deliverables = ['1.1-netns-list']; });\n` };

  it('a failed global setup is the run error, and fails the deliverables of the files that never ran', async () => {
    const r = await run(() => ({ ...namespaces, 'setup.ts': failingSetup('setup', 'ip netns add nginx-lb: File exists') }), './setup.ts');
    expect(r.json.ok).toBe(false);
    expect(r.json.runErrors).toEqual(['platform global setup: Error: ip netns add nginx-lb: File exists']);
    expect(r.json.tests).toMatchObject({ total: 0, failures: [] });
    const d = r.json.deliverables.find((x) => x.id === '1.1-netns-list')!;
    expect(d.status).toBe('fail');
    expect(d.tests[0]!.errors).toEqual(['the file never ran', 'platform global setup: Error: ip netns add nginx-lb: File exists']);
  }, 60_000);

  it('a failed global teardown turns the report written before it red', async () => {
    const r = await run(() => ({ ...namespaces, 'setup.ts': failingSetup('teardown', 'the host is not as it was before the tests') }), './setup.ts');
    // Green when the tests ended, red once the teardown failed: the report is rewritten.
    expect(r.log).toMatch(/run passed · tests: 1 passed[^\n]*\n[\s\S]*run FAILED · tests: 1 passed, 0 failed, 0 skipped, 0 todo · 1 run error/);
    expect(r.json.ok).toBe(false);
    expect(r.json.runErrors).toEqual(['platform global teardown: Error: the host is not as it was before the tests']);
    expect(statusOf(r, '1.1-netns-list')).toBe('pass');
    expect(r.html).toContain('<p class="verdict failed" data-ok="false">');
  }, 60_000);
});
