/**
 * Mutation testing of the grader: learner/build.sh (the seed's commands, Flask services in the
 * seed's manner) with one fault at a time, each built and graded in a virtual host of its own
 * (setup/mutants.ts, started with the test run by setup/mutation-setup.ts): each must fail exactly the
 * deliverables the catalogue names, naming its diagnosis; the unmutated build scores every
 * deliverable in each way a learner runs it. The kill matrix (mutants × deliverables) is in
 * reports/mutants/class.html and reports/mutation.json: a deliverable no mutant fails is a check
 * nothing has proven, and fails the suite like a surviving or misattributed mutant.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClassResult, ClassRow } from '../../src/grader/class.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { catalogue, type Mutant, unmutated } from '../../setup/catalogue.ts';
import { repeatsNative } from '../../setup/mutation-setup.ts';
import { mutantsGraded, work } from '../../setup/mutants.ts';

interface Outcome {
  name: string;
  verdict: 'killed' | 'survived' | 'misattributed' | 'scored' | 'deviated';
  failed: string[];
  diagnoses: string[];
  deviations: string[];
  buildExit: number | null;
}

let graded: ClassResult;
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

if (repeatsNative) console.log("mutation testing: skipped: ECOMNET_DATA=containers changes only ecomnet's own platform, which the learner's build does not use; the native run grades the mutants");

describe.skipIf(repeatsNative)('mutation testing of the grader (learner/build.sh, one fault at a time, each in a virtual host)', () => {
  const outcomes: Outcome[] = [];

  // The run started with the test run (setup/mutation-setup.ts): wait for it to end, then judge what it wrote.
  beforeAll(async () => {
    const { done, result } = await waitFor(
      () => {
        const g = mutantsGraded();
        check(g.done !== undefined, 'the mutation run has not ended yet');
        return g;
      },
      { what: 'the mutation run (setup/mutation-setup.ts)', timeoutMs: 900_000, intervalMs: 500 },
    );
    if (done!.skipped) {
      console.log(`mutation testing: skipped: ${done!.skipped}`);
      return;
    }
    if (!done!.ok || !result) throw new Error(`the mutation run failed: ${done!.error}`);
    graded = result;
  }, 900_000);

  // Each test skips, saying why, when the machine could hold no virtual host.
  beforeEach((ctx) => {
    if (!graded) ctx.skip('no virtual hosts on this machine: the mutation run could not be made (its reason is printed above)');
  });

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
      `mutation score: ${score.killed}/${score.mutants} killed, ${score.survived} survived, ${score.misattributed} misattributed; deliverables no mutant fails: ${unkillable.join(', ') || 'none'} (kill matrix: ${work()}/class.html)`,
    );
  });

  it.for(unmutated.map((u) => u.name))('%s scores every deliverable', (name) => {
    const r = rowOf(name);
    outcomes.push({ name, verdict: 'scored', failed: failedOf(r), diagnoses: r.causes.map((c) => c.id), deviations: [], buildExit: r.buildExit });
    expect(r.errors, `${name}: see ${work()}/${name}`).toEqual([]);
    expect(r.buildExit).toBe(0);
    expect(failedOf(r)).toEqual([]);
    expect(r.score).toEqual({ points: deliverables.length, max: deliverables.length, graded: deliverables.length, of: deliverables.length });
  });

  it.for(catalogue)('$name: $fault', (m: Mutant) => {
    const r = rowOf(m.name);
    const failed = failedOf(r);
    // Named: the expected diagnosis, on at least one of the deliverables that failed.
    const named = r.causes.some((c) => c.id === m.diagnosis && c.deliverables.some((id) => failed.includes(id)));
    const devs = JSON.parse(readFileSync(join(work(), m.name, 'results.json'), 'utf8')).deviations.map((d: { id: string }) => d.id) as string[];
    const wanted = [...new Set(m.fails)].sort();
    const exact = JSON.stringify(failed) === JSON.stringify(wanted);
    const verdict: Outcome['verdict'] = m.deviation ? 'deviated' : failed.length === 0 ? 'survived' : exact && named ? 'killed' : 'misattributed';
    outcomes.push({ name: m.name, verdict, failed, diagnoses: r.causes.map((c) => c.id), deviations: devs, buildExit: r.buildExit });
    expect(failed, `the deliverables that failed (${work()}/${m.name}/deliverables.html)`).toEqual(wanted);
    if (m.diagnosis) expect(named, `diagnosis ${m.diagnosis} named on a failing deliverable; got ${JSON.stringify(r.causes.map((c) => [c.id, c.deliverables]))}`).toBe(true);
    if (m.deviation) expect(devs).toContain(m.deviation);
  });

  it.for([...unmutated.map((u) => u.name), ...catalogue.map((m) => m.name)])("%s: the judge's three readers agree: 1.4 fails exactly when a rule is drawn red and a cause is named for it", (name) => {
    const r = rowOf(name);
    const html = readFileSync(join(work(), name, 'deliverables.html'), 'utf8');
    const diagram = html.slice(html.indexOf('<section id="diagram"'), html.indexOf('<section id="matrix"'));
    const check = r.deliverables['1.4-nat-rules']?.status === 'fail';
    const drawn = diagram.includes('✗ not found');
    const named = r.causes.some((c) => c.deliverables.includes('1.4-nat-rules'));
    expect({ check, drawn, named }, `${work()}/${name}/deliverables.html`).toEqual({ check, drawn: check, named: check });
  });

  it('every deliverable is failed by some mutant: no check stands unproven', () => {
    const killable = new Set(catalogue.flatMap((m) => failedOf(rowOf(m.name))));
    expect(deliverables.map((d) => d.id).filter((id) => !killable.has(id))).toEqual([]);
  });
});
