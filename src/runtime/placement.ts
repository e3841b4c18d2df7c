import { readFileSync } from 'node:fs';
import { priv } from '../host/exec.ts';
import type { Topology } from '../topology/types.ts';

/**
 * Which CPU each server of the request path runs on. A request crosses nginx, the gateway, a
 * service and its data server in turn, each waking the next; left to the scheduler, on a machine
 * with few cores, consecutive hops land on one core (the woken process is pulled to its waker's)
 * and queue behind each other while the other core idles, then migrate. So hop k of the path,
 * counted from the port forward's target along the topology's flows, is kept on CPU k mod n of the
 * CPUs this process may use: consecutive hops run side by side, on every machine with two or more.
 * Measured on 2 cores, alternating with the same processes let float: GET through the chain 6.1k ->
 * 8.6k req/s (1.3-1.4x, bench section 4c in each run); product direct's req/s unchanged, its p99
 * higher (8 -> 17 ms: it can no longer leave the CPU the load generator shares with it).
 * Nodes off the path (the simulated internet host) and one-CPU machines are left to the scheduler.
 */
export function corePlacement(t: Topology, cpus: readonly number[]): Map<string, number> {
  const placed = new Map<string, number>();
  const entry = t.portForwards[0]?.node;
  if (cpus.length < 2 || !entry || !t.flows?.length) return placed;
  const hop = new Map([[entry, 0]]);
  const queue = [entry];
  for (let from = queue.shift(); from !== undefined; from = queue.shift()) {
    for (const f of t.flows) {
      if (f.from !== from || hop.has(f.to)) continue;
      hop.set(f.to, hop.get(from)! + 1);
      queue.push(f.to);
    }
  }
  for (const [node, k] of hop) placed.set(node, cpus[k % cpus.length]!);
  return placed;
}

/** "0-3,6,8-9" (the kernel's CPU list format) as CPU numbers. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) cpus.push(c);
  }
  return cpus;
}

/** The CPUs this process may run on and that are online: its affinity, as a cgroup's cpuset narrows it. */
export function usableCpus(): number[] {
  const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  let online: Set<number> | undefined;
  try {
    online = new Set(parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8')));
  } catch {
    online = undefined;
  }
  return parseCpuList(allowed).filter((c) => !online || online.has(c));
}

/**
 * Every thread of each process on `cpus` (a CPU list, as taskset takes it). The first must take
 * it (a server); the others may have ended meanwhile (a PostgreSQL backend) and are let go.
 */
export async function setAffinity(cpus: string, pids: readonly number[]): Promise<void> {
  if (!pids.length) return;
  const each = 'cpus=$1; taskset -a -p -c "$cpus" "$2" >/dev/null || exit; shift 2; for pid; do taskset -a -p -c "$cpus" "$pid" >/dev/null 2>&1; done; exit 0';
  await priv(['sh', '-c', each, 'sh', cpus, ...pids.map(String)]);
}
