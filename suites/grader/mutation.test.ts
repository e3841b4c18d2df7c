/**
 * Mutation testing of the grader: learner/build.sh (the seed's commands, Flask services in the
 * seed's manner) with one fault at a time, each built and graded in a virtual host of its own, as
 * many side by side as the machine has cores (`ecomnet grade`'s engine): each must fail exactly the
 * deliverables the catalogue names, naming its diagnosis; the unmutated build scores every
 * deliverable in each way a learner runs it. The kill matrix (mutants × deliverables) is in
 * reports/mutants/class.html and reports/mutation.json: a deliverable no mutant fails is a check
 * nothing has proven, and fails the suite like a surviving or misattributed mutant.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClassResult, type ClassRow, gradeClass } from '../../src/grader/class.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { writeClassReports } from '../../src/report/class-report.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { catalogue, type Mutant, mutate, unmutated } from './catalogue.ts';

const root = join(import.meta.dirname, '..', '..');
const script = readFileSync(join(root, 'learner', 'build.sh'), 'utf8');
/** Each build's script, log and reports, and the class report (the kill matrix), kept with the run's reports. */
const work = join(reportPaths().reports, 'mutants');

interface Outcome {
  name: string;
  verdict: 'killed' | 'survived' | 'misattributed' | 'scored' | 'deviated';
  failed: string[];
  diagnoses: string[];
  deviations: string[];
  buildExit: number | null;
}

let graded: ClassResult;
let template: string | undefined;
const rowOf = (name: string): ClassRow => {
  const r = graded.rows.find((x) => x.name === name);
  if (!r) throw new Error(`${name} was not graded`);
  return r;
};
const failedOf = (r: ClassRow) =>
  Object.entries(r.deliverables)
    .filter(([, d]) => d.status !== 'pass')
    .map(([id]) => id)
    .sort();

/** Everything, graded at once: every build's directory holds its script, the class runs them side by side. */
async function gradeAll(): Promise<ClassResult> {
  rmSync(work, { recursive: true, force: true });
  const builds = [
    ...unmutated.map((u) => ({ name: u.name, text: script, env: u.env, ...(u.forward ? { forward: u.forward } : {}) })),
    ...catalogue.map((m) => ({ name: m.name, text: mutate(script, m.edits), env: { LEARNER_POSTGRES: 'host', ...m.env }, ...(m.forward ? { forward: m.forward } : {}) })),
  ];
  const dirs = builds.map((b) => {
    const dir = join(work, b.name, 'src');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'build.sh'), b.text);
    return { name: b.name, dir, env: b.env, ...(b.forward ? { forward: b.forward } : {}) };
  });
  const result = await gradeClass(dirs, {
    jobs: availableParallelism(),
    reports: work,
    // The services' code is this checkout's; PostgreSQL starts from one cluster initialised for the run.
    env: { LEARNER_REPO: root, ...(template ? { LEARNER_PGDATA_TEMPLATE: template } : {}) },
    progress: (line) => console.log(`mutation: ${line}`),
  });
  writeClassReports(result, work);
  return result;
}

describe('mutation testing of the grader (learner/build.sh, one fault at a time, each in a virtual host)', () => {
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    // One initdb for every build: each copies it (0.08 s) instead of running its own (0.5 s).
    const parent = mkdtempSync('/var/tmp/ecomnet-pg-template-');
    const made = spawnSync('bash', [join(root, 'learner', 'pg-template.sh'), join(parent, 'pgdata')], { encoding: 'utf8' });
    if (made.status === 0) template = join(parent, 'pgdata');
    else console.log(`mutation: no PostgreSQL template (each build runs initdb): ${made.stderr.trim()}`);
    graded = await gradeAll();
    rmSync(parent, { recursive: true, force: true });
  }, 600_000);

  afterAll(() => {
    const count = (v: Outcome['verdict']) => outcomes.filter((o) => o.verdict === v).length;
    const mutants = outcomes.filter((o) => o.verdict === 'killed' || o.verdict === 'survived' || o.verdict === 'misattributed');
    const score = { killed: count('killed'), survived: count('survived'), misattributed: count('misattributed'), mutants: mutants.length };
    // The kill matrix: which deliverable each fault fails, and which checks caught it.
    const matrix = catalogue.map((m) => {
      const r = graded?.rows.find((x) => x.name === m.name);
      return { mutant: m.name, fault: m.fault, fails: Object.fromEntries(Object.entries(r?.deliverables ?? {}).flatMap(([id, d]) => (d.status === 'pass' ? [] : [[id, d.checks ?? [d.status]]]))) };
    });
    const unkillable = deliverables.map((d) => d.id).filter((id) => !matrix.some((m) => id in m.fails));
    mkdirSync(reportPaths().reports, { recursive: true });
    writeFileSync(join(reportPaths().reports, 'mutation.json'), `${JSON.stringify({ score, unkillable, outcomes, matrix }, null, 2)}\n`);
    console.log(
      `mutation score: ${score.killed}/${score.mutants} killed, ${score.survived} survived, ${score.misattributed} misattributed; deliverables no mutant fails: ${unkillable.join(', ') || 'none'} (kill matrix: ${work}/class.html)`,
    );
  });

  it.for(unmutated.map((u) => u.name))('%s scores every deliverable', (name) => {
    const r = rowOf(name);
    outcomes.push({ name, verdict: 'scored', failed: failedOf(r), diagnoses: r.causes.map((c) => c.id), deviations: [], buildExit: r.buildExit });
    expect(r.errors, `${name}: see ${work}/${name}`).toEqual([]);
    expect(r.buildExit).toBe(0);
    expect(failedOf(r)).toEqual([]);
    expect(r.score).toEqual({ points: deliverables.length, max: deliverables.length, graded: deliverables.length, of: deliverables.length });
  });

  it.for(catalogue)('$name: $fault', (m: Mutant) => {
    const r = rowOf(m.name);
    const failed = failedOf(r);
    // Named: the expected diagnosis, on at least one of the deliverables that failed.
    const named = r.causes.some((c) => c.id === m.diagnosis && c.deliverables.some((id) => failed.includes(id)));
    const devs = JSON.parse(readFileSync(join(work, m.name, 'results.json'), 'utf8')).deviations.map((d: { id: string }) => d.id) as string[];
    const wanted = [...new Set(m.fails)].sort();
    const exact = JSON.stringify(failed) === JSON.stringify(wanted);
    const verdict: Outcome['verdict'] = m.deviation ? 'deviated' : failed.length === 0 ? 'survived' : exact && named ? 'killed' : 'misattributed';
    outcomes.push({ name: m.name, verdict, failed, diagnoses: r.causes.map((c) => c.id), deviations: devs, buildExit: r.buildExit });
    expect(failed, `the deliverables that failed (${work}/${m.name}/deliverables.html)`).toEqual(wanted);
    if (m.diagnosis) expect(named, `diagnosis ${m.diagnosis} named on a failing deliverable; got ${JSON.stringify(r.causes.map((c) => [c.id, c.deliverables]))}`).toBe(true);
    if (m.deviation) expect(devs).toContain(m.deviation);
  });

  it('every deliverable is failed by some mutant: no check stands unproven', () => {
    const killable = new Set(catalogue.flatMap((m) => failedOf(rowOf(m.name))));
    expect(deliverables.map((d) => d.id).filter((id) => !killable.has(id))).toEqual([]);
  });
});
