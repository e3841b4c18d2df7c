import type { Plan } from '../plan/plan.ts';
import { JUMP_ID } from '../plan/rules.ts';
import { type Backend, nsRestores, nsSaves, restore, save, taggedLines } from './iptables.ts';
import { ipBatch, listLinks, listNamespaces, nsBatches } from './links.ts';
import type { RunDir } from './run-dir.ts';
import { writeState, type State } from './state.ts';
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

/** Run one named step, report its duration, and name it in any failure. */
export async function timed(step: string, progress: Progress, fn: () => Promise<void>): Promise<void> {
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
 * failure at any step is undone by `cleanup` (src/cleanup.ts) from the state and the tags.
 */
export async function applyNetwork(dir: RunDir, plan: Plan, backend: Backend, state: State, progress: Progress): Promise<void> {
  Object.assign(state, { namespaces: plan.namespaces, bridges: plan.bridges, veths: plan.veths, sysctls: plan.sysctls });
  writeState(dir, state);
  await timed('namespaces, bridges, veth pairs', progress, () => ipBatch(plan.hostBatch, { what: 'host batch' }));
  pausePoint('links');
  await timed('addresses and routes in namespaces', progress, () => nsBatches(plan.nsBatches));
  await timed('sysctls', progress, () => setSysctls(plan.sysctls));
  await timed(`iptables: ${plan.jumps.length} chains, ${plan.rules.length} rules (${backend.name})`, progress, () => restore(backend, plan.restore));
  if (plan.firewalls.length)
    await timed(`east-west policy: ${plan.firewalls.length} namespaces, ${plan.firewalls.reduce((n, f) => n + f.rules.length, 0)} rules`, progress, () => nsRestores(backend, plan.firewalls));
  pausePoint('rules');
}

function sameTagged(saved: string, tag: string, planned: string[]): boolean {
  const live = taggedLines(saved, tag).map((l) => `${l.chain} ${l.id}`);
  return JSON.stringify(live.sort()) === JSON.stringify([...planned].sort());
}

/** Is the live host exactly what the plan describes? (Then a second `up` changes nothing.) */
export async function networkMatches(plan: Plan, backend: Backend): Promise<boolean> {
  const [ns, links, saved] = await Promise.all([listNamespaces(), listLinks(), save(backend)]);
  const nsSaved = plan.namespaces.every((n) => ns.includes(n))
    ? await nsSaves(
        backend,
        plan.firewalls.map((f) => f.ns),
      )
    : new Map<string, string>();
  // Every tagged line where the plan puts it: rules in our chains, exactly one jump per chain.
  const live = taggedLines(saved, plan.tag)
    .map((l) => `${l.chain} ${l.id}`)
    .sort();
  const planned = [...plan.rules.map((r) => `${r.chain} ${r.id}`), ...plan.jumps.map((j) => `${j.from} ${JUMP_ID}`)].sort();
  return (
    plan.namespaces.every((n) => ns.includes(n)) &&
    plan.bridges.every((b) => links.includes(b)) &&
    JSON.stringify(live) === JSON.stringify(planned) &&
    plan.firewalls.every((f) => sameTagged(nsSaved.get(f.ns) ?? '', plan.tag, [...f.rules.map((r) => `${r.chain} ${r.id}`), `${f.jump.from} ${JUMP_ID}`])) &&
    plan.sysctls.every((s) => readSysctl(s.key) === s.value)
  );
}
