import type { Plan } from '../plan/plan.ts';
import { priv } from './exec.ts';
import { type Backend, removeTagged, restore, save, taggedLines } from './iptables.ts';
import { ipBatch, linkedAcrossNamespaces, listLinks, listNamespaces, nsBatches, nsPids, waitGone } from './links.ts';
import { readState, writeState, type State } from './state.ts';
import { readSysctl } from './facts.ts';
import { pausePoint } from './pause.ts';
import { setSysctls } from './sysctl.ts';

export type Progress = (step: string, ms: number) => void;

export class StepError extends Error {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`step "${step}" failed: ${(cause as Error).message ?? String(cause)}`);
    this.step = step;
  }
}

async function timed(step: string, progress: Progress, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (e) {
    throw new StepError(step, e);
  }
  progress(step, performance.now() - t0);
}

/**
 * Apply the network part of a plan. The state file names everything first, so a crash or a
 * failure at any step is undone by `teardownNetwork` from the state and the tags.
 */
export async function applyNetwork(plan: Plan, backend: Backend, state: State, progress: Progress): Promise<void> {
  Object.assign(state, { namespaces: plan.namespaces, bridges: plan.bridges, veths: plan.veths, sysctls: plan.sysctls, rules: plan.rules.map((r) => r.id) });
  writeState(state);
  try {
    await timed('namespaces, bridges, veth pairs', progress, () => ipBatch(plan.hostBatch, { what: 'host batch' }));
    pausePoint('links');
    await timed('addresses and routes in namespaces', progress, () => nsBatches(plan.nsBatches));
    await timed('sysctls', progress, () => setSysctls(plan.sysctls));
    await timed(`iptables rules (${plan.rules.length}, ${backend.name})`, progress, () => restore(backend, plan.restore));
    pausePoint('rules');
  } catch (e) {
    await teardownNetwork(state, backend, () => {});
    throw e;
  }
}

/** Is the live host exactly what the plan describes? (Then a second `up` changes nothing.) */
export async function networkMatches(plan: Plan, backend: Backend): Promise<boolean> {
  const [ns, links, saved] = await Promise.all([listNamespaces(), listLinks(), save(backend)]);
  const live = [...taggedLines(saved, plan.tag).values()].flat();
  const liveIds = live.map((l) => /--comment "?[^:]+:([^" ]+)/.exec(l)?.[1]).sort();
  return (
    plan.namespaces.every((n) => ns.includes(n)) &&
    plan.bridges.every((b) => links.includes(b)) &&
    JSON.stringify(liveIds) === JSON.stringify(plan.rules.map((r) => r.id).sort()) &&
    plan.sysctls.every((s) => readSysctl(s.key) === s.value)
  );
}

/** Stop whatever still runs inside our namespaces: a namespace with processes outlives `ip netns del`. */
async function killNamespaceProcesses(namespaces: string[]): Promise<void> {
  const pids = await nsPids(namespaces);
  if (!pids.length) return;
  await priv(['kill', '-TERM', ...pids.map(String)], { allowFail: true });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const left = await nsPids(namespaces);
    if (!left.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await priv(['kill', '-KILL', ...pids.map(String)], { allowFail: true });
}

/**
 * Remove exactly what the state (and, for rules, the tags) says is ours. Idempotent: anything
 * already gone is skipped, so it also finishes a half-done teardown or a crashed `up`.
 */
export async function teardownNetwork(state: State | undefined, backend: Backend, progress: Progress, tag = state?.tag): Promise<void> {
  if (tag) await timed('remove tagged iptables rules', progress, async () => void (await removeTagged(backend, tag)));
  if (!state) return;
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const namespaces = state.namespaces.filter((n) => ns.includes(n));
  const bridges = state.bridges.filter((b) => links.includes(b));
  // Only a veth whose peer sits in another namespace vanishes with it: a foreign link that
  // merely has one of our names (it is why an `up` failed) stays, and is not waited for.
  const veths = await linkedAcrossNamespaces((state.veths ?? []).filter((v) => links.includes(v)));
  await timed('stop processes in namespaces', progress, () => killNamespaceProcesses(namespaces));
  await timed('delete namespaces and bridges', progress, async () => {
    await ipBatch([...namespaces.map((n) => `netns del ${n}`), ...bridges.map((b) => `link del ${b}`)], { force: true });
    await waitGone(state.namespaces, [...state.bridges, ...veths]);
  });
  await timed('restore sysctls', progress, () =>
    setSysctls(state.sysctls.filter((s) => s.before !== null && readSysctl(s.key) !== s.before).map((s) => ({ key: s.key, value: s.before! }))),
  );
  const latest = readState();
  if (latest) writeState({ ...latest, phase: 'down', namespaces: [], bridges: [], veths: [], sysctls: [], rules: [] });
}
