import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { topology } from '../src/topology/default.ts';
import { priv, privPrefix, run } from '../src/host/exec.ts';
import { removePostgresTemplates } from '../src/data/postgres.ts';
import { detectBackend } from '../src/host/iptables.ts';
import { TEST_DATA_ROOT } from '../src/host/run-dir.ts';
import { diffSnapshots, snapshotHost } from '../src/host/snapshot.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import { Platform } from '../src/platform.ts';
import { reportPaths } from '../src/report/paths.ts';
import { recordFailureOf } from '../src/report/run-errors.ts';
import { runDirsOfARun } from '../src/host/run-dir.ts';
import { watchSecrets } from './secret-sampler.ts';
import { ensureImages } from '../src/runtime/images.ts';
import { handshakeLogins } from '../src/runtime/handshake.ts';
import { discover } from '../src/grader/discover.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    runDir: string;
  }
}

const log = (step: string, ms: number) => console.log(`[ecomnet] ✓ ${step} (${ms.toFixed(0)} ms)`);

/**
 * Builds the whole platform once for the platform suites and removes it afterwards. The host
 * must end exactly as it began, and no process may have shown a secret of the run in its
 * command line or environment meanwhile: the teardown fails the run otherwise. Either failure
 * is recorded for the report, which Vitest would otherwise leave saying nothing of it.
 */
export default async function setup(project: TestProject) {
  const teardown = await recordFailureOf('platform global setup', () => buildPlatform(project));
  return () => recordFailureOf('platform global teardown', teardown);
}

async function buildPlatform(project: TestProject) {
  const data = process.env.ECOMNET_DATA === 'containers' ? 'containers' : 'native';
  const policy = process.env.ECOMNET_POLICY === 'open' ? 'open' : 'deny';
  const platform = Platform.from(topology).withGuard().withData(data).withPolicy(policy).withProgress(log).heldAs('npm test');
  const backend = await detectBackend();
  const keys = Object.values(sysctlKeys(topology)).filter((k) => !k.includes(topology.app.bridge.name));
  // The test run's data (vitest.config.ts sets ECOMNET_DATA_DIR), never the user's: started empty, removed at the end.
  if (process.env.ECOMNET_DATA_DIR !== TEST_DATA_ROOT)
    throw new Error(`ECOMNET_DATA_DIR is ${process.env.ECOMNET_DATA_DIR}, not the test run's ${TEST_DATA_ROOT}: run the suites through vitest.config.ts`);
  // The run keeps nothing of its platform, data included: its run directory goes too, unless it was there before.
  const madeRunDir = !existsSync(platform.runDir.root);
  // A platform already up (ecomnet up --detach) is removed, then the host is measured.
  await platform.stop({ volumes: true });
  // This host may not pull: local images from Debian's packages stand in (and the CLI children inherit the choice).
  if (data === 'containers') await ensureImages((line) => console.log(`[ecomnet] ${line}`));
  const before = await snapshotHost(backend, keys);
  // From before `up` makes the secrets to after `down`: no process may show one in /proc.
  const watch = await watchSecrets(runDirsOfARun());
  const evidence = reportPaths().evidence;
  mkdirSync(evidence, { recursive: true });
  const started = await platform.start();
  writeFileSync(
    join(evidence, 'meta.json'),
    JSON.stringify({
      mode: data,
      kernel: (await run(['uname', '-r'])).stdout.trim(),
      iptablesBackend: backend.name,
      node: process.version,
      runDir: started.dir.root,
      startedAt: new Date().toISOString(),
    }),
  );
  // The suites attach to it from their workers through its run directory, and judge it with its logins,
  // handed over as `ecomnet verify` gets them: only while this platform is the one serving.
  project.provide('runDir', started.dir.root);
  project.provide('logins', handshakeLogins(started.dir, await discover()) ?? {});

  return async () => {
    await started.stop(log, { volumes: true });
    // The run's PostgreSQL template is under its own data root: it goes with the run.
    await removePostgresTemplates({ root: join(TEST_DATA_ROOT, 'templates'), prefix: privPrefix });
    if (madeRunDir) await priv(['rm', '-rf', '--', started.dir.root]);
    // And /var/lib/ecomnet if the run made it: rmdir leaves a directory that holds anything (a user's data).
    await priv(['rmdir', TEST_DATA_ROOT, dirname(TEST_DATA_ROOT)], { allowFail: true });
    const leaks = await watch.stop();
    const diff = diffSnapshots(before, await snapshotHost(backend, keys));
    const problems = [
      ...diff.map((d) => `the host is not as it was before the tests: ${d}`),
      ...leaks.map((l) => `a secret of the run was readable in /proc/${l.pid}/${l.where === 'argv' ? 'cmdline' : 'environ'} (${l.program}): ${l.shown}`),
    ];
    if (problems.length) throw new Error(problems.join('\n  '));
  };
}
