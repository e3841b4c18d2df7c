import { readdirSync, readFileSync } from 'node:fs';
import type { ServiceRecord } from '../src/host/state.ts';

/**
 * Who used the two cores during a load run: each process is charged to the service it descends
 * from (nginx workers to nginx, postgres backends to postgres), plus the kernel's softirq time,
 * where bridge, veth, netfilter and TCP work on packets is largely done.
 */

/** USER_HZ: the unit of /proc times; 100 on every Linux architecture Node runs on. */
export const HZ = 100;

export interface Proc {
  ppid: number;
  comm: string;
  ticks: number;
  /** CPU of children this process has waited for. */
  childTicks: number;
}

export function readProc(pid: string): Proc {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  // Fields after "(comm)": state ppid ... utime stime cutime cstime (14th-17th counting from pid).
  const f = stat
    .slice(close + 2)
    .split(' ')
    .map(Number);
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: f[1]!, ticks: f[11]! + f[12]!, childTicks: f[13]! + f[14]! };
}

export function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.set(Number(d), readProc(d));
    } catch {
      // exited while we read
    }
  }
  return out;
}

/** cpu line of /proc/stat: [busy, softirq, total] ticks over all cores. */
function readHost(): [number, number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - idle, f[6]!, total];
}

/** A process that is not ours, named so a busy neighbour on the host is recognisable. */
function describe(pid: number, comm: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const base = (a?: string) => a?.split('/').pop() ?? comm;
    // node and sh run something: name the script too.
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    return `other: ${base(argv[0])}${script && /^(node|sh|bash|python3?)$/.test(base(argv[0])) ? ` ${base(script)}` : ''}`;
  } catch {
    return `other: ${comm}`;
  }
}

function labelOf(pid: number, procs: Map<number, Proc>, services: Map<number, string>): string {
  const p = procs.get(pid)!;
  if (pid === process.pid) return 'bench (this process)';
  for (let cur: number | undefined = pid; cur && cur > 1; cur = procs.get(cur)?.ppid) {
    const name = services.get(cur);
    if (name) return name;
  }
  return describe(pid, p.comm);
}

export interface CpuShare {
  /** % of one core per label; 200 would be both cores. */
  byLabel: Record<string, number>;
  softirqPct: number;
  /** Busy share of the whole machine, 0..100. */
  hostBusyPct: number;
}

/** Start sampling; the returned function gives the shares since then. */
export function cpuSampler(services: ServiceRecord[]): () => CpuShare {
  const named = new Map(services.map((s) => [s.pid, s.name]));
  const before = readProcs();
  const hostBefore = readHost();
  // wrk has exited when the window closes, so /proc no longer shows it; its time is in our cutime.
  const waitedBefore = readProc('self').childTicks;
  const t0 = performance.now();
  return () => {
    const after = readProcs();
    const hostAfter = readHost();
    const seconds = (performance.now() - t0) / 1000;
    const byLabel: Record<string, number> = { 'wrk (load generator)': readProc('self').childTicks - waitedBefore };
    for (const [pid, p] of after) {
      const used = p.ticks - (before.get(pid)?.ticks ?? 0);
      if (used <= 0) continue;
      const label = labelOf(pid, after, named);
      byLabel[label] = (byLabel[label] ?? 0) + used;
    }
    const pct = (ticks: number) => (ticks / HZ / seconds) * 100;
    const [busy, softirq, total] = hostAfter.map((v, i) => v - hostBefore[i]!) as [number, number, number];
    return {
      byLabel: Object.fromEntries(
        Object.entries(byLabel)
          .map(([k, v]) => [k, pct(v)])
          .sort((a, b) => (b[1] as number) - (a[1] as number)),
      ),
      softirqPct: pct(softirq),
      hostBusyPct: (busy / total) * 100,
    };
  };
}
