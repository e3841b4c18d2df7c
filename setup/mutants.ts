/**
 * The mutation run: learner/build.sh unmutated in each way a learner runs it, and once per
 * catalogued fault, every build in a virtual host of its own, as many side by side as the machine
 * has cores (`ecomnet grade`'s engine). Started by the grader project's global setup, so it runs
 * beside the platform suites on the real host, which it never touches; suites/grader/mutation.test.ts
 * judges what it wrote.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { type ClassResult, gradeClass } from '../src/grader/class.ts';
import { priv } from '../src/host/exec.ts';
import { writeClassReports } from '../src/report/class-report.ts';
import { writeGradeReports } from '../src/report/grade-report.ts';
import { reportPaths } from '../src/report/paths.ts';
import { readJson } from '../src/util/read-json.ts';
import { VirtualHost } from '../src/vhost/vhost.ts';
import { buildFiles, catalogue, mutateFiles, unmutated } from './catalogue.ts';

const root = join(import.meta.dirname, '..');
/** Each build's script, log and reports, and the class report (the kill matrix), kept with the run's reports. */
export const work = (): string => join(reportPaths(root).reports, 'mutants');
/** Written when the run has ended, graded or not: what the test waits for. */
export const doneFile = (): string => join(work(), 'done.json');

export interface Done {
  ok: boolean;
  error?: string;
  /** Why the run could not be made here at all (a machine without virtual hosts): the suite skips, saying so. */
  skipped?: string;
  durationMs: number;
}

export async function runMutants(log: (line: string) => void): Promise<ClassResult | undefined> {
  const t0 = performance.now();
  rmSync(work(), { recursive: true, force: true });
  mkdirSync(work(), { recursive: true });
  // A machine that refuses a namespace kind cannot hold the mutants: say which, and stop there.
  try {
    await (await VirtualHost.create()).destroy();
  } catch (e) {
    writeFileSync(doneFile(), JSON.stringify({ ok: false, skipped: (e as Error).message, durationMs: performance.now() - t0 } satisfies Done));
    return undefined;
  }
  // build.sh and the Phase 2 it sources, side by side as in learner/, so a mutant may edit either.
  const files = Object.fromEntries(buildFiles.map((f) => [f, readFileSync(join(root, 'learner', f), 'utf8')]));
  // One initdb for every build: each copies the cluster (0.08 s) instead of running its own (0.5 s).
  const parent = mkdtempSync('/var/tmp/ecomnet-pg-template-');
  // The postgres user passes through to the cluster it owns there.
  chmodSync(parent, 0o711);
  try {
    const made = spawnSync('bash', [join(root, 'learner', 'pg-template.sh'), join(parent, 'pgdata')], { encoding: 'utf8' });
    if (made.status !== 0) log(`no PostgreSQL template (each build runs initdb): ${made.stderr.trim()}`);
    const builds = [
      ...unmutated.map((u) => ({ name: u.name, files, env: u.env, ...(u.forward ? { forward: u.forward } : {}) })),
      ...catalogue.map((m) => ({ name: m.name, files: mutateFiles(files, m.edits), env: { LEARNER_POSTGRES: 'host', ...m.env }, ...(m.forward ? { forward: m.forward } : {}) })),
    ];
    const dirs = builds.map((b) => {
      const dir = join(work(), b.name, 'src');
      mkdirSync(dir, { recursive: true });
      for (const [path, text] of Object.entries(b.files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      return { name: b.name, dir, env: b.env, ...(b.forward ? { forward: b.forward } : {}) };
    });
    const result = await gradeClass(dirs, {
      jobs: availableParallelism(),
      reports: work(),
      // The services' code is this checkout's; PostgreSQL starts from the one cluster made above.
      env: { LEARNER_REPO: root, ...(made.status === 0 ? { LEARNER_PGDATA_TEMPLATE: join(parent, 'pgdata') } : {}) },
      progress: log,
      writeReports: (r, dir, title) => writeGradeReports(r, dir, { title }),
    });
    writeClassReports(result, work());
    writeFileSync(doneFile(), JSON.stringify({ ok: true, durationMs: performance.now() - t0 } satisfies Done));
    return result;
  } catch (e) {
    writeFileSync(doneFile(), JSON.stringify({ ok: false, error: (e as Error).stack ?? String(e), durationMs: performance.now() - t0 } satisfies Done));
    throw e;
  } finally {
    await priv(['rm', '-rf', parent]);
  }
}

/** What the run wrote: its class result, once it has ended. */
export function mutantsGraded(): { done?: Done; result?: ClassResult } {
  const done = readJson<Done>(doneFile());
  return { ...(done ? { done } : {}), ...(done?.ok ? { result: readJson<ClassResult>(join(work(), 'class.json')) } : {}) };
}
