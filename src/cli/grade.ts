/**
 * `ecomnet grade DIR...`: grade a class, each directory's build script in a virtual host of its
 * own, N at a time, with a progress line per build; writes each build's reports and the class
 * report. `--shard I/N` grades one slice (a CI matrix job), `--merge FILE...` joins slices'
 * class.json files into one class report.
 */
import { resolve } from 'node:path';
import { classBuilds, gradeClass, mergeClass, parseShard } from '../grader/class.ts';
import { selectDeliverables } from '../grader/deliverables.ts';
import { EXIT } from '../grader/grade.ts';
import { writeClassReports } from '../report/class-report.ts';
import { writeGradeReports } from '../report/grade-report.ts';

export interface GradeOptions {
  dirs: string[];
  jobs?: string;
  shard?: string;
  merge?: boolean;
  only?: string;
  script?: string;
  reports?: string;
  dockerForward?: boolean;
}

export async function gradeCommand(o: GradeOptions): Promise<number> {
  const reports = resolve(o.reports ?? 'class-reports');
  try {
    if (o.merge) {
      if (!o.dirs.length) throw new Error("--merge FILE...: the slices' class.json files");
      const merged = mergeClass(o.dirs);
      console.log(`merged ${o.dirs.length} slices: ${merged.rows.length} builds -> ${writeClassReports(merged, reports)}`);
      return merged.rows.some((r) => r.verdict === 'fail') ? EXIT.fail : merged.rows.some((r) => r.verdict === 'inconclusive') ? EXIT.inconclusive : EXIT.pass;
    }
    if (!o.dirs.length) throw new Error('usage: ecomnet grade DIR... [--jobs N] [--shard I/N] [--only LIST] [--script build.sh] [--reports DIR]');
    selectDeliverables(o.only);
    const jobs = o.jobs === undefined ? 2 : Number(o.jobs);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 32) throw new Error(`--jobs ${o.jobs}: a whole number from 1 to 32`);
    const shard = o.shard ? parseShard(o.shard) : undefined;
    const builds = classBuilds(o.dirs, o.script);
    console.log(`grading ${builds.length} builds${shard ? ` (slice ${shard.index}/${shard.count})` : ''}, ${jobs} at a time, each in a virtual host of its own`);
    const c = await gradeClass(builds, {
      jobs,
      ...(shard ? { shard } : {}),
      ...(o.only ? { only: o.only } : {}),
      ...(o.script ? { script: o.script } : {}),
      reports,
      forward: o.dockerForward ? 'docker' : 'ACCEPT',
      progress: (l) => console.log(l),
      writeReports: (result, dir, title) => writeGradeReports(result, dir, { title }),
    });
    console.log(`class report: ${writeClassReports(c, reports)} (${(c.durationMs / 1000).toFixed(1)} s)`);
    return c.rows.some((r) => r.verdict === 'fail') ? EXIT.fail : c.rows.some((r) => r.verdict === 'inconclusive') ? EXIT.inconclusive : EXIT.pass;
  } catch (e) {
    console.error(`grade: ${(e as Error).message}`);
    return EXIT.usage;
  }
}
