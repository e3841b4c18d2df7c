import { priv } from '../src/host/exec.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { readState } from '../src/host/state.ts';
import { startObserver } from '../src/observe/observer.ts';
import type { Observer, Snapshot } from '../src/observe/types.ts';
import { HZ, type Proc, readProc, readProcs } from './cpu.ts';
import { median } from './stats.ts';

/**
 * Section 8: what `ecomnet observe` itself costs at 1 Hz on the running platform. The observer
 * runs in this process; its privileged reader (and anything that runs its commands) are this
 * process's descendants, read from /proc. Nothing else runs here during the window. Then how soon
 * a service that stops answering shows as unhealthy in the samples the page is sent.
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
  /** The service stopped in the trials below (its namespace). */
  stopped: string;
  /** Per trial: ms from SIGSTOP of the service to the first sample marking it unhealthy (null: none within 10 s). */
  downToUnhealthyMs: (number | null)[];
}

/** The page's promise: red within 2 s of a service going down. */
export const RED_WITHIN_MS = 2000;
const TRIALS = 5;

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

/** The first sample for which `test` holds, or null after `ms`. */
function firstSample(o: Observer, test: (s: Snapshot) => boolean, ms: number): Promise<{ s: Snapshot; at: number } | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, ms);
    const off = o.subscribe((s) => {
      if (!test(s)) return;
      clearTimeout(timer);
      off();
      resolve({ s, at: performance.now() });
    });
  });
}

/**
 * The product service stopped with SIGSTOP: it stops answering (its probe times out) and, not
 * having exited, is not restarted by the supervisor, so each trial sees the observer alone. Each
 * starts at a random phase of the sampling interval; the service is continued and seen healthy
 * again before the next.
 */
async function downToUnhealthy(o: Observer, intervalMs: number): Promise<{ stopped: string; trials: (number | null)[] }> {
  const service = readState(runDirAt())?.services.find((s) => s.name === 'product');
  if (!service) throw new Error('the platform is not up: no product service in its state');
  const health = (s: Snapshot) => s.health.find((h) => h.name === service.ns)?.healthy;
  const trials: (number | null)[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * intervalMs));
    const red = firstSample(o, (s) => health(s) === false, 10_000);
    const t0 = performance.now();
    await priv(['kill', '-STOP', String(service.pid)]);
    try {
      const seen = await red;
      trials.push(seen ? Math.round(seen.at - t0) : null);
    } finally {
      await priv(['kill', '-CONT', String(service.pid)]);
    }
    if (!(await firstSample(o, (s) => health(s) === true, 10_000))) throw new Error(`${service.ns} did not answer again within 10 s of SIGCONT`);
  }
  return { stopped: service.ns, trials };
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
    const down = await downToUnhealthy(observer, intervalMs);
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
      stopped: down.stopped,
      downToUnhealthyMs: down.trials,
    };
  } finally {
    await observer.stop();
  }
}

// `node bench/observer.ts [SECONDS]`: section 8 alone, against the platform that is up.
if (import.meta.main) console.log(JSON.stringify(await observerCost(Number(process.argv[2] ?? 20)), null, 2));
