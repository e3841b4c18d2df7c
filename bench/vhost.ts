import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gradeBuild } from '../src/grader/build.ts';
import { type ClassBuild, type ClassResult, gradeClass } from '../src/grader/class.ts';
import { priv, run } from '../src/host/exec.ts';
import { VirtualHost } from '../src/vhost/vhost.ts';
import { buildFiles, catalogue, mutateFiles } from '../setup/catalogue.ts';
import { HZ } from './cpu.ts';
import { writeGradeReports } from '../src/report/grade-report.ts';

/**
 * Sections 7d and 7e: builds graded in virtual hosts, run with no platform up. 7d: virtual hosts
 * made and removed, then where one build-and-verify of learner/build.sh (Flask, PostgreSQL on
 * the host) spends its time and CPU, its cluster copied from a template or made by initdb. 7e: a
 * class of 8 builds graded two at a time against one build graded alone. The CPU figures are the
 * whole machine's (/proc/stat), so the bench must run alone.
 */

const root = join(import.meta.dirname, '..');
const learnerBuild = join(root, 'learner', 'build.sh');
/** The prefix of these sections' directories: under /var/tmp, which a virtual host sees through its overlay (not its own /tmp). */
export const BENCH_TMP = '/var/tmp/ecomnet-bench-';
const CYCLES = 20;
const BUILD_ROUNDS = 3;
/** learner/build.sh's environment in both sections: PostgreSQL on the host, as the seed's Docker publishes it. */
const LEARNER_ENV = { LEARNER_POSTGRES: 'host' };

/** A wall time and the CPU seconds the whole machine spent over it. */
export interface Spent {
  ms: number;
  cpuS: number;
}

export const BUILD_STEPS = ['host', 'build', 'grade', 'removal'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];

export interface BuildRun {
  steps: Record<BuildStep, Spent>;
  total: Spent;
  /** `P/M` as graded. */
  score: string;
  buildExit: number | null;
}

export interface VhostBench {
  /** ms per virtual host made, and removed (its PID 1 exited), one after another. */
  create: number[];
  destroy: number[];
  /** Clock ticks per second of /proc/stat, as getconf CLK_TCK says. */
  clockTick: number;
  /** ms learner/pg-template.sh took to make the template, once, before the runs that copy it. */
  templateMs: number;
  /** learner/build.sh graded by gradeBuild, its cluster copied from the template, and made by initdb; alternated. */
  template: BuildRun[];
  initdb: BuildRun[];
}

let tick: number | undefined;
const clockTick = () => (tick ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || HZ);

/** CPU seconds the machine has spent busy since boot: user, nice, system, irq and softirq of /proc/stat's cpu line. */
function machineCpu(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / clockTick();
}

const mark = () => ({ at: performance.now(), cpu: machineCpu() });
const between = (a: ReturnType<typeof mark>, b: ReturnType<typeof mark>): Spent => ({ ms: b.at - a.at, cpuS: b.cpu - a.cpu });

/**
 * A directory of the bench's holding a PostgreSQL cluster made by learner/pg-template.sh (the
 * postgres user passes through its 0711 parent), given to `fn`, then removed as root: the
 * cluster is postgres's.
 */
async function withTemplate<T>(name: string, fn: (dir: string, template: string, madeMs: number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(`${BENCH_TMP}${name}-`);
  chmodSync(dir, 0o711);
  try {
    const t0 = performance.now();
    await run(['bash', join(root, 'learner', 'pg-template.sh'), join(dir, 'pgdata')]);
    return await fn(dir, join(dir, 'pgdata'), performance.now() - t0);
  } finally {
    await priv(['rm', '-rf', dir], { allowFail: true });
  }
}

/** One build-and-verify, its steps cut where gradeBuild reports them: the host made, built, graded; then removed when it returns. */
async function buildOnce(log: string, template?: string): Promise<BuildRun> {
  const marks = [mark()];
  const outcome = await gradeBuild({
    script: learnerBuild,
    log,
    env: { ...LEARNER_ENV, ...(template ? { LEARNER_PGDATA_TEMPLATE: template } : {}) },
    progress: (line) => {
      if (/: (building with|built \(exit|graded \()/.test(line)) marks.push(mark());
    },
  });
  marks.push(mark());
  if (marks.length !== BUILD_STEPS.length + 1) throw new Error(`gradeBuild reported ${marks.length - 2} of its 3 steps`);
  return {
    steps: Object.fromEntries(BUILD_STEPS.map((s, i) => [s, between(marks[i]!, marks[i + 1]!)])) as Record<BuildStep, Spent>,
    total: between(marks[0]!, marks.at(-1)!),
    score: `${outcome.result.score.points}/${outcome.result.score.max}`,
    buildExit: outcome.buildExit,
  };
}

export async function vhostBench(say: (line: string) => void): Promise<VhostBench> {
  const create: number[] = [];
  const destroy: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    const t0 = performance.now();
    const vh = await VirtualHost.create({ label: 'bench' });
    const t1 = performance.now();
    await vh.destroy();
    create.push(t1 - t0);
    destroy.push(performance.now() - t1);
  }
  say(`${CYCLES} virtual hosts made and removed`);
  return withTemplate('builds', async (dir, template, templateMs) => {
    const out: VhostBench = { create, destroy, clockTick: clockTick(), templateMs, template: [], initdb: [] };
    // Alternated, so a drift of the machine's state weighs on both alike.
    for (let i = 0; i < BUILD_ROUNDS; i++) {
      for (const [kind, list] of [
        ['template', out.template],
        ['initdb', out.initdb],
      ] as const) {
        const r = await buildOnce(join(dir, `${kind}-${i + 1}.log`), kind === 'template' ? template : undefined);
        list.push(r);
        say(`build-and-verify ${i + 1} (${kind}): ${r.total.ms.toFixed(0)} ms, ${r.total.cpuS.toFixed(2)} CPU s, ${r.score}`);
      }
    }
    return out;
  });
}

/** learner/build.sh's faults graded in 7e beside the unmutated build: a spread of checks and causes. */
const CLASS_MUTANTS = ['ip-forward-off', 'masquerade-missing', 'dnat-wrong-target-port', 'nginx-real-ip-missing', 'gateway-product-port', 'redis-not-started', 'orders-column-renamed'];
const CLASS_JOBS = 2;

export interface ClassBenchRow {
  name: string;
  score: string;
  verdict: string;
  ms: number;
  /** Failed exactly the deliverables the catalogue names and named its cause; for the unmutated build, every deliverable passed. */
  asExpected: boolean;
}

export interface ClassBench {
  jobs: number;
  /** The class's wall time and the machine's CPU over it, and each build's row. */
  whole: Spent;
  rows: ClassBenchRow[];
  /** The unmutated build graded alone by the same path, before and after the class. */
  alone: Spent[];
  aloneScores: string[];
}

const scoreOf = (r: ClassResult['rows'][number]) => `${r.score.points}/${r.score.max}`;

function judged(r: ClassResult['rows'][number]): ClassBenchRow {
  const m = catalogue.find((x) => x.name === r.name);
  const failed = Object.entries(r.deliverables)
    .filter(([, d]) => d.status !== 'pass')
    .map(([id]) => id)
    .sort();
  const asExpected = m ? failed.join() === [...m.fails].sort().join() && r.causes.some((c) => c.id === m.diagnosis) : r.verdict === 'pass' && r.score.points === r.score.max;
  return { name: r.name, score: scoreOf(r), verdict: r.verdict, ms: r.durationMs, asExpected };
}

export async function classBench(say: (line: string) => void): Promise<ClassBench> {
  return withTemplate('class', async (dir, template) => {
    // build.sh and the Phase 2 it sources, side by side as in learner/, so a mutant may edit either.
    const files = Object.fromEntries(buildFiles.map((f) => [f, readFileSync(join(root, 'learner', f), 'utf8')]));
    const write = (name: string, texts: Record<string, string>) => {
      const d = join(dir, 'builds', name);
      for (const [path, text] of Object.entries(texts)) {
        mkdirSync(dirname(join(d, path)), { recursive: true });
        writeFileSync(join(d, path), text);
      }
      return d;
    };
    const builds: ClassBuild[] = [
      { name: 'unmutated', dir: write('unmutated', files) },
      ...CLASS_MUTANTS.map((name) => {
        const m = catalogue.find((x) => x.name === name)!;
        return { name, dir: write(name, mutateFiles(files, m.edits)), ...(m.env ? { env: m.env } : {}), ...(m.forward ? { forward: m.forward } : {}) };
      }),
    ];
    // The scripts are copies: the services' code is this checkout's, PostgreSQL the template's copy.
    const graded = (list: ClassBuild[], reports: string, progress?: (line: string) => void) =>
      gradeClass(list, {
        jobs: CLASS_JOBS,
        reports,
        writeReports: (r, d, title) => writeGradeReports(r, d, { title }),
        env: { ...LEARNER_ENV, LEARNER_REPO: root, LEARNER_PGDATA_TEMPLATE: template },
        ...(progress ? { progress } : {}),
      });
    const alone: Spent[] = [];
    const aloneScores: string[] = [];
    const gradeAlone = async (n: number) => {
      const t0 = mark();
      const c = await graded([builds[0]!], join(dir, `alone-${n}`));
      alone.push(between(t0, mark()));
      aloneScores.push(scoreOf(c.rows[0]!));
      say(`one build alone (${n}): ${alone.at(-1)!.ms.toFixed(0)} ms, ${aloneScores.at(-1)}`);
    };
    await gradeAlone(1);
    const t0 = mark();
    const c = await graded(builds, join(dir, 'class'), say);
    const whole = between(t0, mark());
    await gradeAlone(2);
    return { jobs: CLASS_JOBS, whole, rows: c.rows.map(judged), alone, aloneScores };
  });
}

if (import.meta.main) {
  const say = (line: string) => console.error(`[bench] ${line}`);
  console.log(JSON.stringify({ vhost: await vhostBench(say), classGrade: await classBench(say) }, null, 2));
}
