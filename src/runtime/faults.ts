/**
 * `ecomnet fault`: the faults a learner injects by hand to watch the platform cope, the same the
 * fault suite injects. Each lasting fault is recorded in the run directory before it is applied,
 * so `fault clear` and `down` undo exactly those; a kill needs no undoing (the supervisor restarts
 * the service), unless it is held (`kill --hold`): then the record keeps it down until `fault
 * clear`. The commands are planned by pure functions, as the network's are.
 */
import { existsSync, rmSync } from 'node:fs';
import { detectBackend } from '../host/iptables.ts';
import { inNs, priv, type RunResult } from '../host/exec.ts';
import { replaceFile } from '../host/files.ts';
import { nsPids } from '../host/links.ts';
import type { Progress } from '../host/network.ts';
import { sameProcess } from '../host/proc.ts';
import type { RunDir } from '../host/run-dir.ts';
import { readState, validateState, type ServiceRecord, type State } from '../host/state.ts';
import { readJson } from '../util/read-json.ts';
import type { Component, DataComponent, NodeSpec, Topology } from '../topology/types.ts';
import { peerName } from '../topology/validate.ts';
import { until } from '../util/wait.ts';
import { readSecrets } from './secrets.ts';
import { readSupervision, SUPERVISED, supervisorRunning } from './supervisor.ts';

/** A fault on a namespace's link, lasting until cleared. */
export type LinkFault = { kind: 'link-down'; ns: string } | { kind: 'loss'; ns: string; percent: number } | { kind: 'delay'; ns: string; ms: number };
/** A killed service kept down (`kill --hold`): the supervisor (or, for a data container, Docker) does not start it until it is cleared. */
export interface Hold {
  kind: 'hold';
  service: Component;
}
/** A fault that lasts until cleared. */
export type FaultRecord = LinkFault | Hold;
export type FaultKind = LinkFault['kind'] | 'kill';
export const FAULT_KINDS: FaultKind[] = ['kill', 'link-down', 'loss', 'delay'];

/** The two halves of a fault: what injects it and what removes it, as argv lists (the removal tolerates a half-applied fault). */
export interface FaultPlan {
  apply: string[][];
  clear: string[][];
}

/** The namespace's own chain for the loss rule: inside the namespace, so it holds whatever the host's bridge netfilter does. */
export const faultChain = (tag: string): string => `${tag.toUpperCase()}-FAULT`;

/**
 * The commands of one fault, planned from the topology: link-down takes the host side of the
 * namespace's veth down (its addresses and routes inside stay, so bringing it up mends it);
 * loss drops that share of the packets crossing the namespace's veth, both ways, by an
 * iptables statistic rule in a chain of ours (no netem needed); delay is netem on the veth.
 */
export function faultPlan(f: LinkFault, t: Topology, iptables = 'iptables'): FaultPlan {
  const n = appNode(f.ns, t);
  switch (f.kind) {
    case 'link-down': {
      const dev = peerName(n.veth);
      return { apply: [['ip', 'link', 'set', dev, 'down']], clear: [['ip', 'link', 'set', dev, 'up']] };
    }
    case 'loss': {
      const chain = faultChain(t.tag);
      const ipt = (...args: string[]) => inNs(n.name, [iptables, '-w', ...args]);
      return {
        apply: [
          ipt('-N', chain),
          ipt('-A', chain, '-m', 'statistic', '--mode', 'random', '--probability', String(f.percent / 100), '-m', 'comment', '--comment', `${t.tag}:fault-loss`, '-j', 'DROP'),
          ipt('-I', 'INPUT', '-i', n.veth, '-j', chain),
          ipt('-I', 'OUTPUT', '-o', n.veth, '-j', chain),
        ],
        clear: [ipt('-D', 'INPUT', '-i', n.veth, '-j', chain), ipt('-D', 'OUTPUT', '-o', n.veth, '-j', chain), ipt('-F', chain), ipt('-X', chain)],
      };
    }
    case 'delay':
      return {
        apply: [inNs(n.name, ['tc', 'qdisc', 'add', 'dev', n.veth, 'root', 'netem', 'delay', `${f.ms}ms`])],
        clear: [inNs(n.name, ['tc', 'qdisc', 'del', 'dev', n.veth, 'root'])],
      };
  }
}

/** A namespace of the app segment (the services'), or a clear refusal naming those there are. */
function appNode(ns: string, t: Topology): NodeSpec {
  const n = t.app.nodes.find((x) => x.name === ns);
  if (!n) throw new Error(`${ns} is not a namespace of the platform: one of ${t.app.nodes.map((x) => x.name).join(', ')}`);
  return n;
}

/** The supervised services topology `t` has: the only ones a hold may name. */
const servicesOf = (t: Topology): Component[] => SUPERVISED.filter((c) => t.app.nodes.some((n) => n.component === c));

/** The fault asked for on the command line, checked: kind, target, its amount, and --hold (a kill's only). */
export function parseFault(
  kind: string,
  target: string | undefined,
  amount: { percent?: string; ms?: string; hold?: boolean },
  t: Topology,
): LinkFault | { kind: 'kill'; service: Component; hold?: true } {
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw new Error(`unknown fault ${kind}: one of ${FAULT_KINDS.join(', ')}, or clear`);
  if (!target) throw new Error(`ecomnet fault ${kind} needs a target: ${kind === 'kill' ? `a service (${SUPERVISED.join(', ')})` : 'a namespace'}`);
  if (amount.hold && kind !== 'kill') throw new Error(`--hold keeps a killed service down: it goes with kill only, not ${kind}`);
  if (kind === 'kill') {
    // A service by name, or by its namespace's.
    const service = (SUPERVISED.includes(target as Component) ? target : t.app.nodes.find((n) => n.name === target)?.component) as Component | undefined;
    if (!service || !SUPERVISED.includes(service)) throw new Error(`${target} is not a service of the platform: one of ${SUPERVISED.join(', ')}`);
    return amount.hold ? { kind: 'kill', service, hold: true } : { kind: 'kill', service };
  }
  appNode(target, t);
  if (kind === 'link-down') return { kind, ns: target };
  if (kind === 'loss') {
    const percent = Number(amount.percent ?? '5');
    if (!(percent > 0 && percent <= 100)) throw new Error(`--percent must be above 0 and at most 100, not ${amount.percent}`);
    return { kind, ns: target, percent };
  }
  const ms = Number(amount.ms ?? '200');
  if (!(Number.isInteger(ms) && ms > 0 && ms <= 60_000)) throw new Error(`--ms must be a whole number of milliseconds from 1 to 60000, not ${amount.ms}`);
  return { kind: 'delay', ns: target, ms };
}

/** The recorded faults, checked before root acts on them: only the topology's namespaces and services, known kinds, sane amounts. */
export function validateFaults(raw: unknown, t: Topology): FaultRecord[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error('the fault record is not a list');
  return raw.map((f: unknown) => {
    const r = f as Record<string, unknown>;
    const onLink = (): boolean =>
      t.app.nodes.some((n) => n.name === r.ns) &&
      (r.kind === 'link-down' ||
        (r.kind === 'loss' && typeof r.percent === 'number' && r.percent > 0 && r.percent <= 100) ||
        (r.kind === 'delay' && Number.isInteger(r.ms) && (r.ms as number) > 0 && (r.ms as number) <= 60_000));
    const ok = typeof r === 'object' && r !== null && (r.kind === 'hold' ? servicesOf(t).includes(r.service as Component) && Object.keys(r).length === 2 : onLink());
    if (!ok) throw new Error(`the fault record holds ${JSON.stringify(f)}, which is no fault ecomnet injects on topology ${t.tag}`);
    return r as unknown as FaultRecord;
  });
}

export const readFaults = (dir: RunDir, t: Topology): FaultRecord[] => validateFaults(readJson(dir.faults), t);

export const isHold = (f: FaultRecord): f is Hold => f.kind === 'hold';

/** The services the record holds down. */
export const heldServices = (faults: FaultRecord[]): Component[] => faults.filter(isHold).map((f) => f.service);

function writeFaults(dir: RunDir, faults: FaultRecord[]): void {
  if (!faults.length) {
    rmSync(dir.faults, { force: true });
    return;
  }
  replaceFile(dir.faults, `${JSON.stringify(faults, null, 2)}\n`);
}

export function describeFault(f: FaultRecord): string {
  switch (f.kind) {
    case 'hold':
      return `kill --hold ${f.service}`;
    case 'link-down':
      return `link-down ${f.ns}`;
    case 'loss':
      return `loss ${f.ns} ${f.percent}%`;
    case 'delay':
      return `delay ${f.ns} ${f.ms} ms`;
  }
}

/** The same fault: a second one on the same namespace (or service) is refused. */
const sameFault = (a: FaultRecord, b: FaultRecord): boolean => (a.kind === 'hold' ? b.kind === 'hold' && a.service === b.service : b.kind === a.kind && b.ns === a.ns);

async function runAll(cmds: string[][], allowFail: boolean): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const c of cmds) out.push(await priv(c, { allowFail }));
  return out;
}

/** Inject a lasting fault: recorded first, then applied; one that fails is undone and unrecorded, and the failure named. */
export async function injectFault(dir: RunDir, t: Topology, f: LinkFault): Promise<void> {
  const faults = readFaults(dir, t);
  if (faults.some((x) => sameFault(x, f))) throw new Error(`${describeFault(f)} is already injected; \`ecomnet fault clear\` first`);
  const plan = faultPlan(f, t, (await detectBackend()).iptables);
  writeFaults(dir, [...faults, f]);
  const results = await runAll(plan.apply, true);
  const failed = results.find((r) => r.exitCode !== 0);
  if (!failed) return;
  await runAll(plan.clear, true);
  writeFaults(dir, faults);
  if (f.kind === 'delay' && /qdisc kind is unknown/i.test(failed.stderr))
    throw new Error(
      `delay needs the netem qdisc (kernel module sch_netem), which this kernel does not have: \`${failed.command}\` said "${failed.stderr.trim()}"; loss works without it (ecomnet fault loss ${f.ns})`,
    );
  throw new Error(`\`${failed.command}\` exited ${failed.exitCode}: ${failed.stderr.trim()}`);
}

/**
 * Remove every recorded fault (the newest first), then the record. A hold is only dropped from
 * the record: `fault clear` then brings the service back (releaseHolds), `down` removes it anyway.
 */
export async function clearFaults(dir: RunDir, t: Topology, progress: Progress = () => {}): Promise<FaultRecord[]> {
  if (!existsSync(dir.faults)) return [];
  const faults = readFaults(dir, t);
  const t0 = performance.now();
  const iptables = (await detectBackend()).iptables;
  // A namespace already deleted took its fault with it: the removal's failure is expected then.
  for (const f of [...faults].reverse()) if (f.kind !== 'hold') await runAll(faultPlan(f, t, iptables).clear, true);
  writeFaults(dir, []);
  if (faults.length) progress(`clear faults: ${faults.map(describeFault).join(', ')}`, performance.now() - t0);
  return faults;
}

const isData = (c: Component): c is DataComponent => c === 'postgres' || c === 'redis';

/**
 * kill -9 a service as a crash would: every process in its namespace (nginx's workers and
 * PostgreSQL's backends die with their master, as in a container), or, in containers mode, the
 * data container's main process (Docker's restart policy brings it back). With `hold` the hold
 * is recorded first and the service stays down: the supervisor reads the record and does not
 * start it (it has said so by the time this returns), and a data container is killed through
 * Docker, which restarts no container it was told to kill. Returns the pids killed.
 */
export async function killService(dir: RunDir, t: Topology, service: Component, opts: { hold?: boolean } = {}): Promise<number[]> {
  const state = validateState(readState(dir), t);
  if (state?.phase !== 'up') throw new Error(`the platform is not up (${dir.state})`);
  const faults = readFaults(dir, t);
  const hold: Hold = { kind: 'hold', service };
  if (faults.some((f) => sameFault(f, hold))) throw new Error(`${service} is held down (${describeFault(hold)}); \`ecomnet fault clear\` brings it back`);
  const rec = state.services.find((s) => s.name === service);
  const inContainer = !rec && state.options.data === 'containers' && isData(service);
  if (!rec && !inContainer) throw new Error(`${service} is not running`);
  if (rec && !sameProcess(rec)) throw new Error(`${service} (pid ${rec.pid}) is not running now: the supervisor is restarting it, or gave it up (ecomnet status)`);
  if (rec && opts.hold && !supervisorRunning(state.supervisor))
    throw new Error(`no supervisor runs for this platform, so nothing would start ${service} again after \`ecomnet fault clear\`; a plain \`ecomnet fault kill ${service}\` keeps it down already`);
  if (opts.hold) writeFaults(dir, [...faults, hold]);
  let pids: number[];
  try {
    pids = inContainer ? [await killContainer(t.tag, service as DataComponent, Boolean(opts.hold))] : await killInNamespace(rec!);
  } catch (e) {
    if (opts.hold) writeFaults(dir, faults);
    throw e;
  }
  if (opts.hold && rec && !(await until(() => readSupervision(dir)?.services[service]?.state === 'held', { timeoutMs: 5000, intervalMs: 20 })))
    throw new Error(`${service} was killed and is held in ${dir.faults}, but the supervisor did not say it holds it within 5 s (see ${dir.log('supervisor')})`);
  return pids;
}

async function killInNamespace(rec: ServiceRecord): Promise<number[]> {
  const pids = [...new Set([rec.pid, ...(await nsPids([rec.ns]))])];
  await priv(['kill', '-KILL', ...pids.map(String)]);
  return pids;
}

/** A data container's kill -9: of its process, as a crash (Docker restarts it), or through Docker (`docker kill`), which leaves it stopped until started. */
async function killContainer(tag: string, c: DataComponent, hold: boolean): Promise<number> {
  const { containerName, engine } = await import('./engine.ts');
  const container = (await engine()).getContainer(containerName(tag, c));
  const info = await container.inspect();
  const pid = info.State.Pid;
  if (!info.State.Running || !pid) throw new Error(`the ${c} container is not running`);
  if (hold) await container.kill({ signal: 'SIGKILL' });
  else await priv(['kill', '-KILL', String(pid)]);
  return pid;
}

/**
 * After `fault clear` dropped holds from the record: each held service is started again (a
 * native one by the supervisor, on its next look; a data container through Docker) and waited
 * for until it serves. Returns, per service, the milliseconds from the call until it served.
 */
export async function releaseHolds(dir: RunDir, t: Topology, holds: Hold[], timeoutMs = 30_000): Promise<Partial<Record<Component, number>>> {
  const state = validateState(readState(dir), t);
  if (state?.phase !== 'up' || !holds.length) return {};
  const t0 = performance.now();
  const served = await Promise.all(
    holds.map(async ({ service }) => {
      if (state.options.data === 'containers' && isData(service) && !state.services.some((s) => s.name === service)) await startContainer(dir, t, service, timeoutMs);
      else await startedBySupervisor(dir, state, service, timeoutMs);
      return [service, Math.round(performance.now() - t0)] as const;
    }),
  );
  return Object.fromEntries(served);
}

/** The supervisor starts a service it held once the hold is gone from the record; its account says `running` once it serves (and its process is the one now recorded). */
async function startedBySupervisor(dir: RunDir, state: State, name: Component, timeoutMs: number): Promise<void> {
  if (!supervisorRunning(state.supervisor)) throw new Error(`no supervisor runs for this platform to start ${name} again: \`ecomnet down\` and \`ecomnet up\``);
  const now = () => readSupervision(dir)?.services[name];
  const serving = () => {
    const rec = readState(dir)?.services.find((r) => r.name === name);
    return now()?.state === 'running' && rec !== undefined && sameProcess(rec);
  };
  const back = await until(() => now()?.state === 'gave-up' || serving(), { timeoutMs, intervalMs: 50 });
  const s = now();
  if (s?.state === 'gave-up') throw new Error(`the supervisor gave ${name} up: ${s.reason}`);
  if (!back) throw new Error(`${name} did not serve again within ${timeoutMs / 1000} s of the clear${s?.lastError ? ` (${s.lastError})` : ''}; see ${dir.log('supervisor')}`);
}

/** Start a held data container again and wait until it answers at its published address with the run's password. */
async function startContainer(dir: RunDir, t: Topology, c: DataComponent, timeoutMs: number): Promise<void> {
  const { containerName, engine, reasonOf, statusOf } = await import('./engine.ts');
  try {
    await (await engine()).getContainer(containerName(t.tag, c)).start();
  } catch (e) {
    // 304: started already (by hand): waited for all the same.
    if (statusOf(e) !== 304) throw new Error(`starting the ${c} container failed: ${reasonOf(e)}`);
  }
  const secrets = readSecrets(dir);
  if (!secrets) throw new Error(`no secrets for this run (${dir.secrets}): cannot tell whether ${c} serves again`);
  // As start waits for it (the run's superuser logs in at the published address).
  const { platformReadiness } = await import('./platform-readiness.ts');
  await platformReadiness(c, t, { data: 'containers', secrets, as: 'start' })!.waitUntilReady(timeoutMs);
}
