/**
 * Grading a class: many builds, each in a virtual host of its own (build.ts), N at a time, each
 * with its own reports, and one class result: builds × deliverables, every failure with the
 * causes that explain it. A slice (`shard`) grades every N-th build, so a class too big for one
 * machine is split over a CI matrix, and the slices' results are merged into one.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type BuildOutcome, gradeBuild } from './build.ts';
import { deliverables } from './deliverables.ts';
import type { GradeResult, Status } from './grade.ts';

export interface ClassBuild {
  /** Unique within the class: the directory's name, numbered when two share one. */
  name: string;
  dir: string;
  /** Its own host's FORWARD, over the class's. */
  forward?: 'ACCEPT' | 'docker';
  /** Its own environment, over the class's. */
  env?: Record<string, string>;
}

export interface ClassRow {
  name: string;
  dir: string;
  score: GradeResult['score'];
  verdict: GradeResult['verdict'];
  buildExit: number | null;
  durationMs: number;
  /** Per deliverable: its status, the checks that failed it, and the causes (diagnosis ids) named for it. */
  deliverables: Record<string, { status: Status; checks?: string[]; causes?: string[]; reason?: string }>;
  causes: { id: string; cause: string; fix: string; deliverables: string[] }[];
  errors: string[];
  /** Where its own reports are, relative to the class report. */
  reports: string;
}

export interface ClassResult {
  generatedAt: string;
  /** Which slice this is (1-based), of how many. */
  shard: { index: number; count: number };
  only?: string;
  rows: ClassRow[];
  durationMs: number;
}

export interface ClassOptions {
  /** The script's name in each directory (default build.sh); teardown.sh beside it is run after grading. */
  script?: string;
  jobs?: number;
  shard?: { index: number; count: number };
  only?: string;
  reports: string;
  forward?: 'ACCEPT' | 'docker';
  /** Extra environment for every build (the mutation suite points its builds at this checkout). */
  env?: Record<string, string>;
  progress?: (line: string) => void;
  /** Writes each build's own reports into its directory (the report module's; the grader writes none itself). */
  writeReports: (result: GradeResult, dir: string, title: string) => void;
}

/** The builds in `dirs`, named by their directories, in a stable order (what shards slice). */
export function classBuilds(dirs: string[], script = 'build.sh'): ClassBuild[] {
  const seen = new Map<string, number>();
  return dirs
    .map((d) => resolve(d))
    .sort()
    .map((dir) => {
      if (!existsSync(join(dir, script)) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no ${script} in it`);
      const base = basename(dir).replace(/[^\w.-]/g, '_') || 'build';
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return { name: n === 1 ? base : `${base}-${n}`, dir };
    });
}

/** `I/N` as a shard, 1-based; refused when it is not one. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard ${text}: I/N with 1 <= I <= N, as 2/4`);
  return { index, count };
}

const inShard = (i: number, s: { index: number; count: number }) => i % s.count === s.index - 1;

function rowOf(b: ClassBuild, outcome: BuildOutcome | undefined, failure: string | undefined, reports: string): ClassRow {
  const r = outcome?.result;
  const per: ClassRow['deliverables'] = {};
  for (const d of deliverables) {
    const v = r?.deliverables.find((x) => x.id === d.id);
    const causes = r?.diagnoses.filter((f) => f.deliverables.includes(d.id)).map((f) => f.id) ?? [];
    const checks = r?.outcomes.filter((x) => x.deliverable === d.id && x.verdict === 'fail').map((x) => x.id) ?? [];
    per[d.id] = {
      status: v?.status ?? 'inconclusive',
      ...(checks.length ? { checks } : {}),
      ...(causes.length ? { causes } : {}),
      ...(v?.reason ? { reason: v.reason } : failure ? { reason: failure } : {}),
    };
  }
  return {
    name: b.name,
    dir: b.dir,
    score: r?.score ?? { points: 0, max: deliverables.reduce((s, d) => s + d.points, 0), graded: 0, of: deliverables.length },
    verdict: r?.verdict ?? 'inconclusive',
    buildExit: outcome?.buildExit ?? null,
    durationMs: outcome?.timings.total ?? 0,
    deliverables: per,
    causes: r?.diagnoses.map(({ id, cause, fix, deliverables: ds }) => ({ id, cause, fix, deliverables: ds })) ?? [],
    errors: [...(failure ? [failure] : []), ...(r?.errors ?? [])],
    reports,
  };
}

export async function gradeClass(builds: ClassBuild[], o: ClassOptions): Promise<ClassResult> {
  const t0 = performance.now();
  const shard = o.shard ?? { index: 1, count: 1 };
  const mine = builds.filter((_, i) => inShard(i, shard));
  const jobs = Math.max(1, o.jobs ?? 2);
  const say = o.progress ?? (() => {});
  const rows: ClassRow[] = new Array(mine.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < mine.length) {
      const i = next++;
      const b = mine[i]!;
      const dir = join(o.reports, b.name);
      mkdirSync(dir, { recursive: true });
      const log = join(dir, 'build.log');
      const teardown = join(b.dir, 'teardown.sh');
      let outcome: BuildOutcome | undefined;
      let failure: string | undefined;
      try {
        outcome = await gradeBuild({
          script: join(b.dir, o.script ?? 'build.sh'),
          ...(existsSync(teardown) ? { teardown } : {}),
          log,
          ...(o.only ? { only: o.only } : {}),
          forward: b.forward ?? o.forward ?? 'ACCEPT',
          env: { ...o.env, ...b.env },
          name: b.name,
          // Each build's report keeps its verdicts and evidence; the all-pairs pings cost a class CPU and prove no deliverable.
          matrix: false,
        });
        o.writeReports(outcome.result, dir, b.name);
      } catch (e) {
        failure = `not graded: ${(e as Error).message}`;
      }
      rows[i] = rowOf(b, outcome, failure, b.name);
      done++;
      const r = rows[i]!;
      const failing = Object.entries(r.deliverables)
        .filter(([, d]) => d.status === 'fail')
        .map(([id]) => id);
      say(
        `[${done}/${mine.length}] ${b.name}: ${r.score.points}/${r.score.max} ${r.verdict}${failing.length ? ` (fails ${failing.join(', ')})` : ''}${failure ? ` (${failure})` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, mine.length) }, worker));
  return { generatedAt: new Date().toISOString(), shard, ...(o.only ? { only: o.only } : {}), rows, durationMs: performance.now() - t0 };
}

/** Several slices' results as one class, each build once (a later slice's row replaces an earlier one of the same name). */
export function mergeClass(files: string[]): ClassResult {
  const rows = new Map<string, ClassRow>();
  let durationMs = 0;
  let only: string | undefined;
  for (const f of files) {
    const c = JSON.parse(readFileSync(f, 'utf8')) as ClassResult;
    if (!Array.isArray(c.rows)) throw new Error(`${f}: not a class result (no rows)`);
    for (const r of c.rows) rows.set(r.name, r);
    durationMs = Math.max(durationMs, c.durationMs ?? 0);
    only ??= c.only;
  }
  return { generatedAt: new Date().toISOString(), shard: { index: 1, count: 1 }, ...(only ? { only } : {}), rows: [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)), durationMs };
}
