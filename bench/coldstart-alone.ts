import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg, release } from 'node:os';
import { removePostgresTemplates } from '../src/data/postgres.ts';
import { priv, privPrefix } from '../src/host/exec.ts';
import { ensureRunDir, runDirAt, TEST_DATA_ROOT } from '../src/host/run-dir.ts';
import { coldStart } from './coldstart.ts';
import { PlatformLock, platformDown } from './platform.ts';
import { toText } from './report.ts';
import { summarize } from './summary.ts';

/**
 * Section 3 alone (`node bench/coldstart-alone.ts`): the cold start rounds, their timeline (3a)
 * and the fresh cluster's cost (3b), printed; for working on the start without the whole bench.
 * Cleans up as `npm run bench` does, and writes no report.
 */

const say = (line: string) => console.error(`[bench] ${line}`);
process.env.ECOMNET_DATA_DIR = TEST_DATA_ROOT;

const madeRunDir = !existsSync(runDirAt().root);
await ensureRunDir(runDirAt());
const lock = new PlatformLock();
lock.take();
const host = { node: process.version, kernel: release(), cores: cpus().length, loadavgStart: loadavg(), bridgeNetfilter: false };
try {
  const cold = await coldStart(lock, say);
  console.log(`\n${toText(summarize({ startedAt: new Date().toISOString(), host, loadTool: null, coldStart: cold }).tables)}\n`);
} finally {
  await platformDown(lock).catch((e: Error) => say(`down failed: ${e.message}`));
  lock.release();
  if (madeRunDir) await priv(['rm', '-rf', '--', runDirAt().root], { allowFail: true });
  await removePostgresTemplates({ root: join(TEST_DATA_ROOT, 'templates'), prefix: privPrefix });
  await priv(['rmdir', TEST_DATA_ROOT, dirname(TEST_DATA_ROOT)], { allowFail: true });
}
