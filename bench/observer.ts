import { startObserver } from '../src/observe/observer.ts';
import type { Snapshot } from '../src/observe/types.ts';
import { HZ, type Proc, readProc, readProcs } from './cpu.ts';
import { median } from './stats.ts';

/**
 * Section 8: what `ecomnet observe` itself costs at 1 Hz on the running platform. The observer
 * runs in this process; its privileged reader (and anything that runs its commands) are this
 * process's descendants, read from /proc. Nothing else runs here during the window.
 */

export interface ObserverCost {
  seconds: number;
  intervalMs: number;
  samples: number;
  /** % of one core: this Node process (the observer's sampling, probes and bookkeeping). */
  selfPct: number;
  /** % of one core: every descendant (the privileged reader, sudo, what they ran and reaped). */
  childrenPct: number;
  totalPct: number;
  /** The mean of the observer's own figure (Snapshot.observer.cpuPercent) over the window. */
  reportedPct: number;
  /** Median time one sample took. */
  sampleMs: number;
}

/** The observer's budget: 5% of one core at 1 Hz. */
export const OBSERVER_BUDGET_PCT = 5;

/** This process's descendants and their CPU ticks so far, their own and their reaped children's. */
function descendants(): Map<number, Proc> {
  const procs = readProcs();
  const mine = new Map<number, Proc>();
  const isMine = (pid: number): boolean => {
    for (let cur = procs.get(pid)?.ppid; cur && cur > 1; cur = procs.get(cur)?.ppid) if (cur === process.pid) return true;
    return false;
  };
  for (const [pid, p] of procs) if (pid !== process.pid && isMine(pid)) mine.set(pid, p);
  return mine;
}

/** CPU ticks of the descendants between two readings: one gone in between was reaped into a parent's (or our) child time, so its earlier ticks are taken off. */
function descendantTicks(before: Map<number, Proc>, after: Map<number, Proc>): number {
  let ticks = 0;
  for (const [pid, p] of after) {
    const was = before.get(pid);
    ticks += p.ticks + p.childTicks - (was ? was.ticks + was.childTicks : 0);
  }
  for (const [pid, was] of before) if (!after.has(pid)) ticks -= was.ticks + was.childTicks;
  return ticks;
}

export async function observerCost(seconds = 20, intervalMs = 1000): Promise<ObserverCost> {
  const observer = await startObserver({ intervalMs });
  try {
    // The first samples start the reader and warm the probes' connections: not what it costs while it runs.
    await observer.sample();
    const seen: Snapshot[] = [];
    const off = observer.subscribe((s) => seen.push(s));
    const kidsBefore = descendants();
    const reapedBefore = readProc('self').childTicks;
    const selfBefore = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const self = process.cpuUsage(selfBefore);
    const elapsed = (performance.now() - t0) / 1000;
    const kids = descendantTicks(kidsBefore, descendants()) + readProc('self').childTicks - reapedBefore;
    off();
    const selfPct = ((self.user + self.system) / 1e6 / elapsed) * 100;
    const childrenPct = (kids / HZ / elapsed) * 100;
    return {
      seconds: elapsed,
      intervalMs,
      samples: seen.length,
      selfPct,
      childrenPct,
      totalPct: selfPct + childrenPct,
      reportedPct: seen.length ? seen.reduce((a, s) => a + s.observer.cpuPercent, 0) / seen.length : Number.NaN,
      sampleMs: seen.length ? median(seen.map((s) => s.observer.sampleMs)) : Number.NaN,
    };
  } finally {
    await observer.stop();
  }
}

// `node bench/observer.ts [SECONDS]`: section 8 alone, against the platform that is up.
if (import.meta.main) console.log(JSON.stringify(await observerCost(Number(process.argv[2] ?? 20)), null, 2));
