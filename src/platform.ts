import { topology as defaultTopology } from '../fixtures/topology.ts';
import { buildPlan, type Plan, type PlanOptions } from './plan/plan.ts';
import type { DataMode, Topology } from './topology/types.ts';
import { gatherFacts } from './host/facts.ts';
import { detectBackend, type Backend } from './host/iptables.ts';
import { listLinks, listNamespaces } from './host/links.ts';
import { applyNetwork, networkMatches, teardownNetwork, type Progress } from './host/network.ts';
import { clearState, ensureRunDir, readState, runDir, writeState, type State } from './host/state.ts';
import { ensurePackages } from './host/doctor.ts';
import { alive } from './host/proc.ts';
import { containerRunning, engineEndpoint, engineReachable, labelFilter, removeContainers, requireEngine } from './runtime/engine.ts';
import { removeRunFiles, prepareServices, startServices, stopServices } from './runtime/services.ts';

export type { DataMode };

export interface UpOptions extends PlanOptions {
  topology?: Topology;
  /** Phase 1 alone: namespaces, bridge, veths and rules, no services. */
  networkOnly?: boolean;
  data?: DataMode;
  /** Print what the preflight does (package installs). */
  say?: (line: string) => void;
}

/** What the suites and the CLI learn about a running platform. */
export interface PlatformInfo {
  tag: string;
  runDir: string;
  data: DataMode;
  networkOnly: boolean;
  guard: boolean;
  changed: boolean;
  uplinkDev?: string;
}

export async function planFor(opts: UpOptions, backend?: Backend): Promise<Plan> {
  const t = opts.topology ?? defaultTopology;
  return buildPlan(t, await gatherFacts(t, backend), opts);
}

function freshState(t: Topology, opts: UpOptions): State {
  return {
    version: 1, tag: t.tag, startedAt: new Date().toISOString(), phase: 'applying',
    namespaces: [], bridges: [], sysctls: [], rules: [], services: [], containers: [],
    options: { guard: opts.guard, networkOnly: Boolean(opts.networkOnly), data: opts.data ?? 'native' },
  };
}

/** Refuse to adopt a namespace or link that has our name but that no state of ours created. */
async function checkConflicts(plan: Plan): Promise<void> {
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const clash = [...plan.namespaces.filter((n) => ns.includes(n)).map((n) => `namespace ${n}`), ...plan.bridges.filter((b) => links.includes(b)).map((b) => `link ${b}`)];
  if (clash.length)
    throw new Error(`${clash.join(', ')} already exist and are not recorded as ours in ${runDir}/state.json; remove them (ip netns del / ip link del) or choose other names in the topology`);
}

function sameOptions(s: State, opts: UpOptions): boolean {
  return s.options.guard === opts.guard && s.options.networkOnly === Boolean(opts.networkOnly) && s.options.data === (opts.data ?? 'native');
}

/**
 * `up`: idempotent (a platform already up as asked changes nothing), cleans a stale or
 * different earlier run first, and rolls everything back when a step fails.
 */
export async function up(opts: UpOptions, progress: Progress): Promise<PlatformInfo> {
  const t = opts.topology ?? defaultTopology;
  if (opts.data === 'containers' && !opts.networkOnly) await requireEngine();
  await ensureRunDir();
  await ensurePackages(opts.networkOnly ? 'network' : 'services', opts.say ?? (() => {}));
  const backend = await detectBackend();
  const facts = await gatherFacts(t, backend);
  const plan = buildPlan(t, facts, opts);
  const info = (changed: boolean): PlatformInfo => ({
    tag: t.tag, runDir, data: opts.data ?? 'native', networkOnly: Boolean(opts.networkOnly), guard: opts.guard, changed, uplinkDev: facts.uplinkDev,
  });
  const previous = readState();
  if (
    previous?.phase === 'up' && previous.tag === t.tag && sameOptions(previous, opts) &&
    previous.services.every((s) => alive(s.pid)) && (await networkMatches(plan, backend)) &&
    (await Promise.all(previous.containers.map(containerRunning))).every(Boolean)
  )
    return info(false);
  await down(progress, t);
  await checkConflicts(plan);
  const state = freshState(t, opts);
  // initdb and the rest of the preparation need no network: they overlap its construction.
  const prepared = prepareServices(t, { networkOnly: Boolean(opts.networkOnly), data: opts.data ?? 'native' }, progress);
  prepared.catch(() => {});
  try {
    await applyNetwork(plan, backend, state, progress);
    await startServices(await prepared, state, progress);
  } catch (e) {
    await prepared.catch(() => {});
    await down(() => {}, t);
    throw e;
  }
  state.phase = 'up';
  writeState(state);
  return info(true);
}

/** `down`: works from the state file and the tags, so it also finishes a crashed run. Idempotent. */
export async function down(progress: Progress, t: Topology = defaultTopology): Promise<void> {
  await ensureRunDir();
  const backend = await detectBackend();
  const state = readState();
  await stopServices(state, progress);
  await teardownNetwork(state, backend, progress, state?.tag ?? t.tag);
  await removeDataContainers(state, state?.tag ?? t.tag, progress);
  await removeRunFiles();
  clearState();
}

/**
 * A containers-mode run's containers, by recorded id and by label (one created just before a
 * crash has no id on record). Without an engine they cannot go: the state stays for a later `down`.
 */
async function removeDataContainers(state: State | undefined, tag: string, progress: Progress): Promise<void> {
  if (state?.options.data !== 'containers') return;
  if (!(await engineReachable())) {
    if (!state.containers.length) return;
    throw new Error(`containers ${state.containers.join(', ')} are left: no Docker engine answers at ${engineEndpoint().shown}; start it and run \`ecomnet down\` again`);
  }
  const t0 = performance.now();
  const n = await removeContainers(state.containers, tag);
  progress(`remove ${n} containers (${labelFilter(tag)})`, performance.now() - t0);
}
