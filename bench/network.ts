import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/host/exec.ts';
import { readSysctl } from '../src/host/facts.ts';
import { detectBackend, type Backend } from '../src/host/iptables.ts';
import { ipBatch, listLinks, listNamespaces } from '../src/host/links.ts';
import { setSysctls } from '../src/host/sysctl.ts';
import { sysctlKeys, type Plan } from '../src/plan/plan.ts';
import { cleanup, leftovers } from '../src/cleanup.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { Platform, type StartedPlatform } from '../src/platform.ts';
import { check, waitFor } from '../src/util/wait.ts';
import type { Topology } from '../src/topology/types.ts';
import { runScript, sequentialDown, sequentialUp } from './sequential.ts';
import { median, timeIt } from './stats.ts';
import { BENCH_RUN_DIR, BENCH_TAG, LARGEST, SCALE, syntheticTopology } from './synthetic.ts';

/**
 * Sections 1 and 2: synthetic platforms, network only, in a run directory of their own so they
 * never touch the main one's state and lock.
 */

export interface UpDown {
  up: number;
  down: number;
}

/** ms per progress step of our `up` and `down` (up starts with a clean-up pass of its own). */
export interface Steps {
  up: Record<string, number>;
  down: Record<string, number>;
}

export interface NetResult {
  compare: {
    nodes: number;
    ours: UpDown[];
    seed: UpDown[];
    /** Whole processes, as a person runs them: `ecomnet up --network-only --detach` and `ecomnet down`. */
    cli: UpDown[];
    /** Same namespaces, links and iptables rules (in order) after both kinds of `up`. */
    identical: boolean;
    seedCommands: UpDown;
    /** Medians over the rounds, for the diagnosis. */
    oursSteps: Steps;
  };
  scale: (UpDown & { nodes: number; steps: Steps })[];
}

const ROUNDS = 5;
const log = (line: string) => process.stderr.write(`  [net] ${line}\n`);

/** Our namespaces, links and rules as they stand, to prove the baseline builds exactly what we build. */
const hostView = async (t: Topology): Promise<string> => JSON.stringify(await leftovers(t));

/**
 * Untimed, between rounds: a deleted namespace takes its veth with it asynchronously, and the next
 * `link add` of the same peer name would collide with one still being destroyed.
 */
async function settle(t: Topology): Promise<void> {
  await waitFor(
    async () => {
      const left = await leftovers(t);
      check(!left.length, `still present: ${left.join(', ')}`);
    },
    { what: `removal of ${t.tag}`, timeoutMs: 30_000, intervalMs: 20 },
  );
}

type StepLog = { up: Record<string, number[]>; down: Record<string, number[]> };
const newStepLog = (): StepLog => ({ up: {}, down: {} });
const recorder = (into: Record<string, number[]>) => (step: string, ms: number) => void (into[step] ??= []).push(ms);
const medians = (into: Record<string, number[]>) => Object.fromEntries(Object.entries(into).map(([k, v]) => [k, median(v)]));
const stepMedians = (s: StepLog): Steps => ({ up: medians(s.up), down: medians(s.down) });

const synthetic = (t: Topology) => Platform.from(t).withRunDir(BENCH_RUN_DIR).withNetworkOnly().heldAs('npm run bench (synthetic network)');

/** The real path: what `ecomnet up --network-only` and `ecomnet down` call. */
async function ours(t: Topology, steps: StepLog): Promise<UpDown> {
  let started: StartedPlatform | undefined;
  const upMs = await timeIt(async () => void (started = await synthetic(t).withProgress(recorder(steps.up)).start()));
  const downMs = await timeIt(() => started!.stop(recorder(steps.down)));
  return { up: upMs, down: downMs };
}

const ecomnetBin = fileURLToPath(new URL('../bin/ecomnet.js', import.meta.url));

/** The topology as the data file the CLI's --topology takes. */
function writeTopologyFile(t: Topology): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ecomnet-bench-')), 'topology.json');
  writeFileSync(file, JSON.stringify(t));
  return file;
}

/** `ecomnet up --network-only --detach` then `ecomnet down`, each a whole process from its start. */
async function cli(topologyFile: string): Promise<UpDown> {
  const env = { ECOMNET_RUN_DIR: BENCH_RUN_DIR };
  const upMs = await timeIt(() => run([process.execPath, ecomnetBin, 'up', '--network-only', '--detach', '--topology', topologyFile], { env }));
  const downMs = await timeIt(() => run([process.execPath, ecomnetBin, 'down', '--topology', topologyFile], { env }));
  return { up: upMs, down: downMs };
}

async function seed(plan: Plan, backend: Backend): Promise<UpDown> {
  const upMs = await timeIt(() => runScript(sequentialUp(plan, backend)));
  const downMs = await timeIt(() => runScript(sequentialDown(plan, backend)));
  return { up: upMs, down: downMs };
}

/** Untimed: does the baseline leave the host exactly as our `up` does? */
async function sameOutcome(t: Topology, plan: Plan, backend: Backend): Promise<boolean> {
  const started = await synthetic(t).start();
  const view = await hostView(t);
  await started.stop();
  await settle(t);
  await runScript(sequentialUp(plan, backend));
  const same = view === (await hostView(t));
  await runScript(sequentialDown(plan, backend));
  await settle(t);
  return same;
}

async function compare(backend: Backend): Promise<NetResult['compare']> {
  const t = syntheticTopology(SCALE[0]!);
  const plan = await synthetic(t).plan();
  const seedCommands = { up: sequentialUp(plan, backend).length, down: sequentialDown(plan, backend).length };
  const identical = await sameOutcome(t, plan, backend);
  const result: NetResult['compare'] = { nodes: t.app.nodes.length, ours: [], seed: [], cli: [], identical, seedCommands, oursSteps: { up: {}, down: {} } };
  const topologyFile = writeTopologyFile(t);
  const steps = newStepLog();
  try {
    // Interleaved rounds, so a slow spell on the host hits both sides alike.
    for (let i = 0; i < ROUNDS; i++) {
      result.ours.push(await ours(t, steps));
      await settle(t);
      result.seed.push(await seed(plan, backend));
      await settle(t);
      result.cli.push(await cli(topologyFile));
      await settle(t);
      const r = (u: UpDown) => `up ${u.up.toFixed(0)} / down ${u.down.toFixed(0)} ms`;
      log(`round ${i + 1}: ours ${r(result.ours[i]!)}; seed ${r(result.seed[i]!)}; ecomnet CLI ${r(result.cli[i]!)}`);
    }
  } finally {
    rmSync(dirname(topologyFile), { recursive: true, force: true });
  }
  result.oursSteps = stepMedians(steps);
  return result;
}

async function scale(): Promise<NetResult['scale']> {
  const out: NetResult['scale'] = [];
  for (const n of SCALE) {
    const t = syntheticTopology(n);
    const steps = newStepLog();
    const r = await ours(t, steps);
    await settle(t);
    out.push({ nodes: n, ...r, steps: stepMedians(steps) });
    log(`${n} namespaces: up ${r.up.toFixed(0)} ms, down ${r.down.toFixed(0)} ms`);
  }
  return out;
}

/** Leave nothing of the bench behind, whatever failed: state-recorded, named, tagged, sysctl. */
async function scrub(forwardBefore: string | null): Promise<void> {
  const t = syntheticTopology(LARGEST);
  await cleanup(runDirAt(BENCH_RUN_DIR), () => {}, t);
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  // The baseline keeps no state: anything it left is found by name.
  const strayNs = ns.filter((n) => n.startsWith(`${BENCH_TAG}-`));
  const strayBr = [t.app.bridge.name, t.outside.bridge.name].filter((b) => links.includes(b));
  await ipBatch([...strayNs.map((n) => `netns del ${n}`), ...strayBr.map((b) => `link del ${b}`)], { force: true });
  const forward = sysctlKeys(t).forward;
  if (forwardBefore !== null && readSysctl(forward) !== forwardBefore) await setSysctls([{ key: forward, value: forwardBefore }]);
  await settle(t);
}

/** Sections 1 and 2; whatever fails, nothing of them is left on the host, ip_forward as it was found. */
export async function networkBench(forwardBefore: string | null): Promise<NetResult> {
  const backend = await detectBackend();
  try {
    return { compare: await compare(backend), scale: await scale() };
  } finally {
    await scrub(forwardBefore);
  }
}
