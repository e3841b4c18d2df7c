import { median } from './stats.ts';
import { platformDown, platformUp, waitHealthy, type PlatformLock, type Step } from './platform.ts';

/** Section 3: `ecomnet up --detach` of the default topology until every service is healthy. */

const ROUNDS = 3;

export interface ColdStart {
  /** CLI start to all healthy, per round. */
  rounds: number[];
  /** Wall time of the CLI process alone, per round. */
  cli: number[];
  /** Median over the rounds of when the CLI printed its first line (Node start-up, imports). */
  firstLineAt: number;
  /** Median duration and completion time of each step the CLI reported, in the order printed. */
  steps: Step[];
  /** `ecomnet down` of a running platform, per round between. */
  downs: number[];
}

/** Leaves the platform up for the data-path sections. */
export async function coldStart(lock: PlatformLock, say: (line: string) => void): Promise<ColdStart> {
  const out: ColdStart = { rounds: [], cli: [], firstLineAt: 0, steps: [], downs: [] };
  const steps = new Map<string, { ms: number[]; doneAt: number[] }>();
  const firstLines: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i) out.downs.push((await platformDown(lock)).ms);
    const t0 = performance.now();
    const r = await platformUp(lock);
    await waitHealthy();
    out.rounds.push(performance.now() - t0);
    out.cli.push(r.ms);
    firstLines.push(r.firstLineAt);
    for (const s of r.steps) {
      const agg = steps.get(s.step) ?? { ms: [], doneAt: [] };
      agg.ms.push(s.ms);
      agg.doneAt.push(s.doneAt);
      steps.set(s.step, agg);
    }
    say(`cold start ${i + 1}: ${out.rounds[i]!.toFixed(0)} ms (CLI ${r.ms.toFixed(0)} ms)`);
  }
  out.firstLineAt = median(firstLines);
  out.steps = [...steps].map(([step, a]) => ({ step, ms: median(a.ms), doneAt: median(a.doneAt) })).sort((a, b) => a.doneAt - b.doneAt);
  return out;
}
