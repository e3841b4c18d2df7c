import { existsSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { removePostgresTemplates } from '../src/data/postgres.ts';
import { priv, privPrefix } from '../src/host/exec.ts';
import { readSysctl } from '../src/host/facts.ts';
import { ensureRunDir, runDirAt, TEST_DATA_ROOT } from '../src/host/run-dir.ts';
import { benchLeftovers, forwardBefore } from './clean.ts';
import { coldStart } from './coldstart.ts';
import { bareNodeRss, getThroughput, orderThroughput, placementGain, platformFootprint, serviceRss } from './datapath.ts';
import { networkBench } from './network.ts';
import { observerCost } from './observer.ts';
import { PlatformLock, platformDown } from './platform.ts';
import { toMarkdown, toText, writeReports } from './report.ts';
import { spawnCost } from './spawncost.ts';
import { summarize, type Results } from './summary.ts';
import { BENCH_RUN_DIR } from './synthetic.ts';
import { brokenVerifyBench, verifyBench } from './verify.ts';
import { twoHostsBench } from './two-hosts.ts';
import { classBench, vhostBench } from './vhost.ts';
import { INSTALL_HINT, wrkPath } from './wrk.ts';

/**
 * `npm run bench`: measures, prints every target as met or not met, writes reports/bench.json and
 * reports/bench.md. Never asserts on timings; exits non-zero only if the bench itself failed.
 */

const say = (line: string) => console.error(`[bench] ${line}`);

// Its platforms' data (thousands of orders) is kept apart from the user's, as npm test's is, and removed by its downs.
process.env.ECOMNET_DATA_DIR = TEST_DATA_ROOT;

// Ctrl-C or SIGTERM must not kill the bench outright: it stops at the next section boundary
// (a terminal's Ctrl-C also ends the child in flight) and the finally still cleans the host.
let stopRequested: string | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    stopRequested = signal;
    say(`${signal}: stopping after the current step, then cleaning up`);
  });
function checkpoint(next: string): void {
  if (stopRequested) throw new Error(`interrupted by ${stopRequested}`);
  say(next);
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const results: Results = {
    startedAt: new Date().toISOString(),
    host: { node: process.version, kernel: release(), cores: cpus().length, loadavgStart: loadavg(), bridgeNetfilter: readSysctl('net.bridge.bridge-nf-call-iptables') === '1' },
    loadTool: wrkPath() ? 'wrk' : null,
  };
  if (!results.loadTool) say(`wrk not found: the data-path sections (4, 5) are skipped. Install it: ${INSTALL_HINT}`);
  // Its run directory goes with it when it made it, as npm test's does.
  const madeRunDir = !existsSync(runDirAt().root);
  await ensureRunDir(runDirAt());
  const lock = new PlatformLock();
  lock.take();
  const forward = forwardBefore();
  let platformGone = false;
  try {
    checkpoint('section 0: process start cost');
    results.spawn = await spawnCost();
    checkpoint('sections 1-2: synthetic networks (ours vs seed, then scale)');
    results.network = await networkBench(forward);
    checkpoint('section 3: cold start of the platform');
    results.coldStart = await coldStart(lock, say);
    results.memory = { idle: serviceRss(), bareNode: await bareNodeRss(), platform: await platformFootprint() };
    if (results.loadTool) {
      checkpoint('section 4: GET data path');
      results.get = await getThroughput();
      checkpoint('section 4c: the chain on the CPUs up placed it, against left to the scheduler');
      results.placement = await placementGain();
      checkpoint('section 5: POST /api/orders');
      results.orders = await orderThroughput();
    }
    checkpoint('section 6: memory');
    results.memory.afterLoad = serviceRss();
    // After section 6, so verify's own requests don't weigh on the memory measured after the load.
    checkpoint('section 7: ecomnet verify against the running platform');
    results.verify = await verifyBench(say);
    checkpoint('section 7c: ecomnet verify of a broken platform (forwarding off)');
    results.brokenVerify = await brokenVerifyBench(say);
    checkpoint("section 8: ecomnet observe's own cost at 1 Hz (20 s), then a service stopped to unhealthy (5 trials)");
    results.observer = await observerCost(20);
    // 7d and 7e count the whole machine's CPU: the platform goes first, so nothing else runs.
    checkpoint('tearing the platform down for sections 7d-7e');
    await platformDown(lock);
    platformGone = true;
    checkpoint('section 7d: virtual hosts made and removed, then one build-and-verify by step (template and initdb, 3 runs each)');
    results.vhost = await vhostBench(say);
    checkpoint('section 7e: ecomnet grade of 8 builds, --jobs 2, vs one alone');
    results.classGrade = await classBench(say);
    checkpoint('section 9: two hosts (course day 6) in virtual hosts: cold start against one host, the overlay against the bridge');
    results.twoHosts = await twoHostsBench(say);
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
    say(`failed: ${results.error}`);
  } finally {
    // Ours to remove only when the platform is down by our hand: a lost lock means someone else's run.
    const ours = platformGone || lock.held;
    // Down already before 7d; otherwise only with the lock in hand: `ecomnet down` would signal whoever holds it.
    if (platformGone) lock.release();
    else if (lock.held) {
      say('tearing the platform down');
      await platformDown(lock).catch((e: Error) => say(`down failed: ${e.message}`));
      lock.release();
    } else say('the platform lock was lost: not tearing down what its holder may own');
    // The synthetic networks' state directory is the bench's own: nothing of it should outlive the run.
    await priv(['rm', '-rf', BENCH_RUN_DIR], { allowFail: true });
    if (madeRunDir && ours) await priv(['rm', '-rf', '--', runDirAt().root], { allowFail: true });
    // Its data directory, emptied by the downs, as npm test's is, its template too; rmdir leaves one that holds anything (a user's data).
    await removePostgresTemplates({ root: join(TEST_DATA_ROOT, 'templates'), prefix: privPrefix });
    await priv(['rmdir', TEST_DATA_ROOT, dirname(TEST_DATA_ROOT)], { allowFail: true });
  }
  const left = await benchLeftovers(forward);
  results.hostClean = { clean: !left.length, leftovers: left };
  results.host.loadavgEnd = loadavg();
  results.durationS = (performance.now() - t0) / 1000;

  const { tables, targets } = summarize(results);
  const preamble = [
    `${results.startedAt}, ${results.durationS.toFixed(0)} s; Node ${results.host.node}, kernel ${results.host.kernel}, ${results.host.cores} cores;`,
    `load average at start ${results.host.loadavgStart.map((l) => l.toFixed(2)).join(' ')}, at end ${results.host.loadavgEnd.map((l) => l.toFixed(2)).join(' ')}.`,
    'Targets are reported, never asserted.',
    ...(results.error ? ['', `**The bench stopped early:** ${results.error.split('\n')[0]}`] : []),
  ];
  console.log(`\n${toText(tables)}\n`);
  for (const f of writeReports({ ...results, targets }, toMarkdown(tables, preamble))) console.log(`wrote ${f}`);
  return results.error ? 1 : 0;
}

process.exitCode = await main().catch((e: Error) => {
  say(e.message);
  return 2;
});
