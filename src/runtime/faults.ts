/**
 * `ecomnet fault`: the faults a learner injects by hand to watch the platform cope, the same the
 * fault suite injects. Each lasting fault is recorded in the run directory before it is applied,
 * so `fault clear` and `down` undo exactly those; a kill needs no undoing (the supervisor restarts
 * the service). The commands are planned by pure functions, as the network's are.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { detectBackend } from '../host/iptables.ts';
import { inNs, priv, type RunResult } from '../host/exec.ts';
import { nsPids } from '../host/links.ts';
import type { Progress } from '../host/network.ts';
import { sameProcess } from '../host/proc.ts';
import type { RunDir } from '../host/run-dir.ts';
import { readState, validateState } from '../host/state.ts';
import { readJson } from '../read-json.ts';
import type { Component, NodeSpec, Topology } from '../topology/types.ts';
import { peerName } from '../topology/validate.ts';
import { SUPERVISED } from './supervisor.ts';

/** A fault that lasts until cleared: on a namespace's link. */
export type FaultRecord = { kind: 'link-down'; ns: string } | { kind: 'loss'; ns: string; percent: number } | { kind: 'delay'; ns: string; ms: number };
export type FaultKind = FaultRecord['kind'] | 'kill';
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
export function faultPlan(f: FaultRecord, t: Topology, iptables = 'iptables'): FaultPlan {
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

/** The fault asked for on the command line, checked: kind, target, and its amount. */
export function parseFault(kind: string, target: string | undefined, amount: { percent?: string; ms?: string }, t: Topology): FaultRecord | { kind: 'kill'; service: Component } {
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw new Error(`unknown fault ${kind}: one of ${FAULT_KINDS.join(', ')}, or clear`);
  if (!target) throw new Error(`ecomnet fault ${kind} needs a target: ${kind === 'kill' ? `a service (${SUPERVISED.join(', ')})` : 'a namespace'}`);
  if (kind === 'kill') {
    // A service by name, or by its namespace's.
    const service = (SUPERVISED.includes(target as Component) ? target : t.app.nodes.find((n) => n.name === target)?.component) as Component | undefined;
    if (!service || !SUPERVISED.includes(service)) throw new Error(`${target} is not a service of the platform: one of ${SUPERVISED.join(', ')}`);
    return { kind: 'kill', service };
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

/** The recorded faults, checked before root acts on them: only the topology's namespaces, known kinds, sane amounts. */
export function validateFaults(raw: unknown, t: Topology): FaultRecord[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error('the fault record is not a list');
  return raw.map((f: unknown) => {
    const r = f as Record<string, unknown>;
    const ok =
      typeof r === 'object' &&
      r !== null &&
      t.app.nodes.some((n) => n.name === r.ns) &&
      (r.kind === 'link-down' ||
        (r.kind === 'loss' && typeof r.percent === 'number' && r.percent > 0 && r.percent <= 100) ||
        (r.kind === 'delay' && Number.isInteger(r.ms) && (r.ms as number) > 0 && (r.ms as number) <= 60_000));
    if (!ok) throw new Error(`the fault record holds ${JSON.stringify(f)}, which is no fault ecomnet injects on topology ${t.tag}`);
    return r as unknown as FaultRecord;
  });
}

export const readFaults = (dir: RunDir, t: Topology): FaultRecord[] => validateFaults(readJson(dir.faults), t);

function writeFaults(dir: RunDir, faults: FaultRecord[]): void {
  if (!faults.length) {
    rmSync(dir.faults, { force: true });
    return;
  }
  const tmp = `${dir.faults}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(faults, null, 2)}\n`);
  renameSync(tmp, dir.faults);
}

export const describeFault = (f: FaultRecord): string => (f.kind === 'link-down' ? `link-down ${f.ns}` : f.kind === 'loss' ? `loss ${f.ns} ${f.percent}%` : `delay ${f.ns} ${f.ms} ms`);

async function runAll(cmds: string[][], allowFail: boolean): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const c of cmds) out.push(await priv(c, { allowFail }));
  return out;
}

/** Inject a lasting fault: recorded first, then applied; one that fails is undone and unrecorded, and the failure named. */
export async function injectFault(dir: RunDir, t: Topology, f: FaultRecord): Promise<void> {
  const faults = readFaults(dir, t);
  if (faults.some((x) => x.kind === f.kind && x.ns === f.ns)) throw new Error(`${describeFault(f)} is already injected; \`ecomnet fault clear\` first`);
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

/** Remove every recorded fault (the newest first), then the record. */
export async function clearFaults(dir: RunDir, t: Topology, progress: Progress = () => {}): Promise<FaultRecord[]> {
  if (!existsSync(dir.faults)) return [];
  const faults = readFaults(dir, t);
  const t0 = performance.now();
  const iptables = (await detectBackend()).iptables;
  // A namespace already deleted took its fault with it: the removal's failure is expected then.
  for (const f of [...faults].reverse()) await runAll(faultPlan(f, t, iptables).clear, true);
  writeFaults(dir, []);
  if (faults.length) progress(`clear faults: ${faults.map(describeFault).join(', ')}`, performance.now() - t0);
  return faults;
}

/**
 * kill -9 a service as a crash would: every process in its namespace (nginx's workers and
 * PostgreSQL's backends die with their master, as in a container), or, in containers mode, the
 * data container's main process (Docker's restart policy brings it back). Returns the pids killed.
 */
export async function killService(dir: RunDir, t: Topology, service: Component): Promise<number[]> {
  const state = validateState(readState(dir), t);
  if (state?.phase !== 'up') throw new Error(`the platform is not up (${dir.state})`);
  const rec = state.services.find((s) => s.name === service);
  if (!rec) {
    if (state.options.data === 'containers' && (service === 'postgres' || service === 'redis')) return [await killContainer(t.tag, service)];
    throw new Error(`${service} is not running`);
  }
  if (!sameProcess(rec)) throw new Error(`${service} (pid ${rec.pid}) is not running now: the supervisor is restarting it, or gave it up (ecomnet status)`);
  const pids = [...new Set([rec.pid, ...(await nsPids([rec.ns]))])];
  await priv(['kill', '-KILL', ...pids.map(String)]);
  return pids;
}

async function killContainer(tag: string, c: 'postgres' | 'redis'): Promise<number> {
  const { containerName, engine } = await import('./engine.ts');
  const info = await (await engine()).getContainer(containerName(tag, c)).inspect();
  const pid = info.State.Pid;
  if (!info.State.Running || !pid) throw new Error(`the ${c} container is not running`);
  await priv(['kill', '-KILL', String(pid)]);
  return pid;
}
