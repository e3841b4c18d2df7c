import { join } from 'node:path';
import { clusterFromTemplate, initPostgres, postgresTemplate } from '../src/data/postgres.ts';
import { generatePassword } from '../src/data/password.ts';
import { priv, privPrefix } from '../src/host/exec.ts';
import { TEST_DATA_ROOT } from '../src/host/run-dir.ts';
import { median, timeIt } from './stats.ts';
import { platformDown, platformUp, waitHealthy, type PlatformLock, type Step } from './platform.ts';

/**
 * Section 3: `ecomnet up --detach` of the default topology until every service is healthy; and
 * what a fresh PostgreSQL cluster costs as up makes it (a copy of the template) against the
 * initdb it replaces, in the same run.
 */

const ROUNDS = 3;

/** A fresh cluster made both ways, each timed as `up` runs it (the postgres account's, flushed to disk), alternating. */
export interface FreshCluster {
  /** Making the template, when this run had to (the first `up` on a machine pays it once); 0 when it was there. */
  templateBuild: number;
  /** initdb and the orders database, the superuser's password given, per round. */
  initdb: number[];
  /** A cluster made from the template as up makes it (its spare renamed into place; a copy on a first run), the superuser's password given, per round. */
  copy: number[];
}

export interface ColdStart {
  /** A checkout's first up (untimed rounds follow): it also fills the services' compile caches, kept for every later up. */
  firstUp: number;
  /** CLI start to all healthy, per round. */
  rounds: number[];
  /** Wall time of the CLI process alone, per round. */
  cli: number[];
  /** Median over the rounds of when the CLI printed its first line (Node start-up, imports). */
  firstLineAt: number;
  /** Median duration and completion time of each step the CLI reported, in the order printed. */
  steps: Step[];
  /** `ecomnet down` of a running platform, before each round. */
  downs: number[];
  cluster: FreshCluster;
}

async function freshCluster(): Promise<FreshCluster> {
  const scratch = join(TEST_DATA_ROOT, 'bench-clusters');
  const cluster = { runAs: 'postgres', prefix: privPrefix };
  await priv(['install', '-d', '-m', '0755', scratch]);
  try {
    const out: FreshCluster = { templateBuild: 0, initdb: [], copy: [] };
    const t0 = performance.now();
    if ((await postgresTemplate(cluster)).built) out.templateBuild = performance.now() - t0;
    for (let i = 0; i < ROUNDS; i++) {
      out.initdb.push(await timeIt(() => initPostgres({ ...cluster, dataDir: join(scratch, `initdb-${i}`), password: generatePassword() })));
      // Until it is on disk too, as initdb's is: up waits for that beside the services' start.
      let nextSpare: Promise<void> | undefined;
      out.copy.push(
        await timeIt(async () => {
          const made = await clusterFromTemplate({ ...cluster, dataDir: join(scratch, `copy-${i}`), password: generatePassword() });
          nextSpare = made.nextSpare;
          await made.flushed;
        }),
      );
      // Made behind the server's start, as up does: not on the path timed.
      await nextSpare;
    }
    return out;
  } finally {
    await priv(['rm', '-rf', scratch]);
  }
}

/** Leaves the platform up for the data-path sections. */
export async function coldStart(lock: PlatformLock, say: (line: string) => void): Promise<ColdStart> {
  // First: the template is then there for every round, as for any `up` but a machine's first.
  const cluster = await freshCluster();
  say(`fresh cluster: initdb ${median(cluster.initdb).toFixed(0)} ms, copy of the template ${median(cluster.copy).toFixed(0)} ms (medians)`);
  // Then a first up, as a checkout's first: the compile caches are then filled for every round, as the template is.
  const first = performance.now();
  await platformUp(lock);
  await waitHealthy();
  const firstUp = performance.now() - first;
  say(`first up of this checkout (fills the compile caches): ${firstUp.toFixed(0)} ms`);
  const out: ColdStart = { firstUp, rounds: [], cli: [], firstLineAt: 0, steps: [], downs: [], cluster };
  const steps = new Map<string, { ms: number[]; doneAt: number[] }>();
  const firstLines: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    out.downs.push((await platformDown(lock)).ms);
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
