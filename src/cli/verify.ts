/**
 * `ecomnet verify`: the deliverable suites, run under Vitest against whatever platform stands on
 * the host (ECOMNET_TARGET=existing), then one line per deliverable with the diagnosis of each
 * failure, and `deliverables: P/N passed`. It builds nothing and removes nothing of the platform.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openForWrite } from '../host/files.ts';
import { readJson } from '../read-json.ts';
import { generateAllure } from '../report/allure.ts';
import { reportPaths } from '../report/paths.ts';
import type { ResultsJson } from '../report/results.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface VerifyOptions {
  pgUrl?: string;
  redisUrl?: string;
  /** Where the reports go (default: the repository's reports/). */
  reports?: string;
  /** Build the single-file Allure report too (Java; seconds). */
  allure: boolean;
  /** Vitest's own output on the terminal, not only in verify.log. */
  verbose: boolean;
}

/** Runs the suites in a child Vitest: its reporters write the same reports as npm test. */
async function runSuites(o: VerifyOptions, env: NodeJS.ProcessEnv, log: string): Promise<number> {
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const fd = openForWrite(log);
  const child = spawn(process.execPath, [vitest, 'run', '--project', 'platform'], { cwd: root, env, stdio: ['ignore', o.verbose ? 'inherit' : fd, o.verbose ? 'inherit' : fd] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    // Ctrl-C reaches the child too (same process group); its global teardown removes the probe.
    process.once('SIGINT', () => {});
  });
}

export async function verify(o: VerifyOptions): Promise<number> {
  // Every report path of this process and of the suites' Vitest follows.
  if (o.reports) process.env.ECOMNET_REPORTS_DIR = o.reports;
  const paths = reportPaths(root);
  const reports = paths.reports;
  mkdirSync(reports, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ECOMNET_TARGET: 'existing',
    ...(o.pgUrl ? { ECOMNET_PG_URL: o.pgUrl } : {}),
    ...(o.redisUrl ? { ECOMNET_REDIS_URL: o.redisUrl } : {}),
  };
  const log = join(reports, 'verify.log');
  console.log(`verify: judging the platform on this host against the seed's contract (Vitest's output: ${log})`);
  const t0 = performance.now();
  await runSuites(o, env, log);
  const results = readJson<ResultsJson>(paths.results);
  if (!results) {
    console.error(`verify: the suites wrote no results (see ${log})`);
    return 1;
  }
  if (o.allure) generateAllure(root);
  const mark = { pass: '✓', fail: '✗', missing: '?' } as const;
  for (const d of results.deliverables) {
    console.log(`${mark[d.status]} ${d.id.padEnd(28)} ${d.title}`);
    for (const f of results.diagnoses?.filter((x) => x.deliverables.includes(d.id)) ?? []) console.log(`    cause: ${f.cause}\n    fix:   ${f.fix}`);
  }
  for (const x of results.deviations) console.log(`deviation (accepted): ${x.text}`);
  for (const x of results.advice) console.log(`advice: ${x.text}`);
  for (const e of results.runErrors) console.log(`run error: ${e}`);
  const passed = results.deliverables.filter((d) => d.status === 'pass').length;
  const all = results.deliverables.length;
  console.log(`reports: ${paths.html} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`deliverables: ${passed}/${all} passed`);
  return passed === all && results.runErrors.length === 0 ? 0 : 1;
}
