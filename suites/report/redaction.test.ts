/**
 * A run whose failures quote a secret of one of its platforms: every file the run writes (the
 * deliverables page, results.json, junit.xml, Allure's results, the evidence, the recorded run
 * errors) and the job summary must show it masked, also after the platform removed its secrets.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import AllureVitestReporter from 'allure-vitest/reporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import { jobSummary } from '../../ci/job-summary.ts';
import { generatePassword } from '../../src/data/password.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { MASK } from '../../src/report/redact.ts';
import DeliverablesReporter from '../../src/report/reporter.ts';
import type { ResultsJson } from '../../src/report/results.ts';

/** The platform under test's (in the run's default run directory), and a test's own platform's. */
const mainSecret = generatePassword();
const secret = generatePassword();
const root = mkdtempSync(join(tmpdir(), 'ecomnet-redaction-'));
const mainDir = runDirAt(join(root, 'run'));
const runDir = runDirAt(join(root, 'alt-run'));
const paths = reportPaths(root);
let log = '';

/** The lines of `text` that hold the secret, shown with it marked: an assertion must not print it either. */
const leaks = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l.includes(secret) || l.includes(mainSecret))
    .map((l) => l.split(secret).join('<THE SECRET>').split(mainSecret).join('<THE MAIN SECRET>').slice(0, 300));

/** Every file under dir, recursively. */
const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));

beforeAll(async () => {
  for (const [d, postgres] of [
    [mainDir, mainSecret],
    [runDir, secret],
  ] as const) {
    mkdirSync(d.root);
    writeFileSync(d.secrets, JSON.stringify({ postgres, redis: generatePassword() }), { mode: 0o600 });
  }
  const files: Record<string, string> = {
    // The platform is gone (its secrets.json with it) before the test fails: its secrets were read while it ran.
    // Read at run time: a failure's code frame shows the source, which must not hold the secret.
    'suites/phase2/order.test.ts': `import { readFileSync, rmSync } from 'node:fs';
import { expect, it } from 'vitest';
const { postgres } = JSON.parse(readFileSync(${JSON.stringify(runDir.secrets)}, 'utf8'));
it('an order is written', ({ task }) => {
  task.meta.deliverables = ['2.4-order-written'];
  rmSync(${JSON.stringify(runDir.secrets)});
  expect('postgres://postgres:' + postgres + '@10.0.0.60:5432/orders').toBe('postgres://postgres@10.0.0.60:5432/orders');
});
it('order-service listens', ({ task }) => {
  task.meta.deliverables = ['2.4-order-listening'];
  throw new Error('connect failed: password ' + postgres + ' rejected');
});
`,
    'setup.ts': `import { readFileSync, rmSync } from 'node:fs';
import { recordFailureOf } from ${JSON.stringify(resolve('src/report/run-errors.ts'))};
import { reportPaths } from ${JSON.stringify(resolve('src/report/paths.ts'))};
export default async function (project) {
  // As the platform's stop does: its secrets go, then the check of the host fails quoting one.
  return () => recordFailureOf('platform global teardown', async () => {
    const { postgres } = JSON.parse(readFileSync(${JSON.stringify(mainDir.secrets)}, 'utf8'));
    rmSync(${JSON.stringify(mainDir.secrets)});
    throw new Error('down failed: redis://:' + postgres + '@10.0.0.50:6379');
  }, reportPaths(project.config.root));
}
`,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  const sink = new Writable({
    write: (chunk, _, done) => {
      log += String(chunk);
      done();
    },
  });
  const exitCode = process.exitCode;
  // The run's default run directory is the one holding the secret, as /run/ecomnet is for npm test.
  const previous = process.env.ECOMNET_RUN_DIR;
  process.env.ECOMNET_RUN_DIR = mainDir.root;
  try {
    await startVitest(
      [],
      {
        root,
        config: false,
        watch: false,
        globalSetup: ['./setup.ts'],
        reporters: [
          new DeliverablesReporter({ root, runDirs: [mainDir.root, runDir.root] }),
          'default',
          new AllureVitestReporter({ resultsDir: paths.allureResults }),
          ['junit', { outputFile: paths.junit }],
        ],
      },
      {},
      { stdout: sink, stderr: sink },
    );
  } finally {
    process.exitCode = exitCode;
    if (previous === undefined) delete process.env.ECOMNET_RUN_DIR;
    else process.env.ECOMNET_RUN_DIR = previous;
  }
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a secret quoted by failing tests and a failing global teardown', () => {
  it('the run failed and reported the failures', () => {
    const results = JSON.parse(readFileSync(paths.results, 'utf8')) as ResultsJson;
    expect(results.ok).toBe(false);
    expect(results.runErrors).toEqual([`platform global teardown: Error: down failed: redis://:${MASK}@10.0.0.50:6379`]);
    expect(readFileSync(paths.junit, 'utf8')).toContain(`password ${MASK} rejected`);
  });

  it('is masked in every file the run wrote, and in the job summary', () => {
    const written = filesUnder(paths.reports);
    expect(written.map((f) => f.slice(paths.reports.length + 1))).toEqual(expect.arrayContaining(['results.json', 'deliverables.html', 'junit.xml', '.evidence/run-errors.json']));
    expect(written.filter((f) => f.startsWith(paths.allureResults)).length).toBeGreaterThan(0);
    const leaking = written.flatMap((f) => leaks(readFileSync(f, 'utf8')).map((l) => `${f.slice(paths.reports.length + 1)}: ${l}`));
    expect(leaking).toEqual([]);
    expect(leaks(jobSummary(JSON.parse(readFileSync(paths.results, 'utf8')) as ResultsJson))).toEqual([]);
  });

  it('is masked on the console', () => {
    expect(log).toContain('an order is written');
    expect(leaks(log)).toEqual([]);
  });
});
