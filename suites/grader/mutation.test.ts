/**
 * Mutation testing of the grader: learner/build.sh with one fault at a time, judged by `ecomnet
 * verify`, must fail exactly the deliverables the catalogue names, with its diagnosis; the
 * unmutated build must score 27/27 (PostgreSQL on the host, and in Docker where an engine
 * answers). Each build is torn down by learner/teardown.sh before the next.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priv } from '../../src/host/exec.ts';
import { hostRoutes } from '../../src/host/facts.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { engineReachable } from '../../src/runtime/engine.ts';
import { readJson } from '../../src/read-json.ts';
import { deliverables } from '../../src/report/deliverables.ts';
import { reportPaths } from '../../src/report/paths.ts';
import type { ResultsJson } from '../../src/report/results.ts';
import { catalogue, type Mutant, mutate } from './catalogue.ts';
import { stopEcomnetPlatform } from './host.ts';

const root = join(import.meta.dirname, '..', '..');
const script = readFileSync(join(root, 'learner', 'build.sh'), 'utf8');
/** Each mutant's script, build, verify and teardown logs and reports, kept with the run's reports. */
const work = join(reportPaths().reports, 'mutants');
rmSync(work, { recursive: true, force: true });
const learnerDir = '/var/tmp/ecomnet-learner';
/** The host's real uplink: its default route's device. */
const uplinkDev = (await hostRoutes()).find((r) => r.dst === 'default')?.dev;
/** Docker's FORWARD policy DROP: only then does the build add FORWARD accepts a learner could leave out. */
const forwardDrop = (await priv([(await detectBackend()).iptables, '-S', 'FORWARD'], { allowFail: true })).stdout.startsWith('-P FORWARD DROP');

interface Outcome {
  name: string;
  verdict: 'killed' | 'survived' | 'misattributed' | 'scored' | 'deviated';
  failed: string[];
  diagnoses: string[];
  deviations: string[];
  buildExit: number | null;
}
const outcomes: Outcome[] = [];

function sh(argv: string[], env: NodeJS.ProcessEnv, log: string) {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 240_000 });
  writeFileSync(log, `$ ${argv.join(' ')}\nexit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const teardown = (dir: string) => sh(['bash', join(root, 'learner', 'teardown.sh')], { LEARNER_DIR: learnerDir }, join(dir, 'teardown.log'));

/** Build the (mutated) learner's lab, verify it into its own reports, tear it down; the results verify wrote. */
function buildAndVerify(name: string, text: string, pg: 'host' | 'docker') {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const build = join(dir, 'build.sh');
  writeFileSync(build, text);
  teardown(dir);
  try {
    const b = sh(['bash', build], { LEARNER_DIR: learnerDir, LEARNER_REPO: root, LEARNER_POSTGRES: pg }, join(dir, 'build.log'));
    sh([process.execPath, join(root, 'bin', 'ecomnet.js'), 'verify', '--no-allure', '--reports', join(dir, 'reports')], {}, join(dir, 'verify.log'));
    const results = readJson<ResultsJson>(join(dir, 'reports', 'results.json'));
    if (!results) throw new Error(`verify wrote no results for ${name}: see ${dir}/verify.log`);
    return { results, buildExit: b.status };
  } finally {
    teardown(dir);
  }
}

const failedOf = (r: ResultsJson) =>
  r.deliverables
    .filter((d) => d.status !== 'pass')
    .map((d) => d.id)
    .sort();

/** The learner's build never uses ecomnet's data layer: a containers-mode run would repeat the native one's mutants. */
const repeatsNative = process.env.ECOMNET_DATA === 'containers';
if (repeatsNative) console.log("mutation testing: skipped: ECOMNET_DATA=containers changes only ecomnet's own platform, which the learner's build does not use; the native run grades the mutants");

describe.skipIf(repeatsNative)('mutation testing of the grader (learner/build.sh, one fault at a time)', () => {
  beforeAll(stopEcomnetPlatform);

  afterAll(() => {
    const count = (v: Outcome['verdict']) => outcomes.filter((o) => o.verdict === v).length;
    const mutants = outcomes.filter((o) => o.verdict === 'killed' || o.verdict === 'survived' || o.verdict === 'misattributed');
    const score = { killed: count('killed'), survived: count('survived'), misattributed: count('misattributed'), mutants: mutants.length };
    const paths = reportPaths();
    mkdirSync(paths.reports, { recursive: true });
    writeFileSync(join(paths.reports, 'mutation.json'), `${JSON.stringify({ score, outcomes }, null, 2)}\n`);
    console.log(`mutation score: ${score.killed}/${score.mutants} killed, ${score.survived} survived, ${score.misattributed} misattributed (logs: ${work})`);
  });

  it.for(['host', 'docker'] as const)('the unmutated build, PostgreSQL on the %s, scores 27/27', async (pg, ctx) => {
    if (pg === 'docker' && !(await engineReachable())) {
      console.log('unmutated build with PostgreSQL in Docker: skipped: no Docker engine answers on this host');
      ctx.skip();
    }
    const { results, buildExit } = buildAndVerify(`unmutated-${pg}`, script, pg);
    const failed = failedOf(results);
    outcomes.push({ name: `unmutated (${pg})`, verdict: 'scored', failed, diagnoses: results.diagnoses.map((d) => d.id), deviations: results.deviations.map((d) => d.id), buildExit });
    expect(buildExit).toBe(0);
    expect(failed).toEqual([]);
    expect(results.deliverables).toHaveLength(deliverables.length);
  });

  it.for(catalogue)('$name: $fault', (m: Mutant, ctx) => {
    if (m.needsForwardDrop && !forwardDrop) {
      console.log(`${m.name}: skipped: FORWARD's policy is ACCEPT on this host, so the build adds no FORWARD accepts to leave out`);
      ctx.skip();
    }
    if (m.needsUplink && !uplinkDev) {
      console.log(`${m.name}: skipped: this host has no default route, so no real uplink for the rule to name`);
      ctx.skip();
    }
    const edits = m.edits.map((e) => ({ ...e, typed: e.typed.replaceAll('{uplink}', uplinkDev ?? '') }));
    const { results, buildExit } = buildAndVerify(m.name, mutate(script, edits), 'host');
    const failed = failedOf(results);
    // Named: the expected diagnosis, on at least one of the deliverables that failed.
    const named = results.diagnoses.some((d) => d.id === m.diagnosis && d.deliverables.some((id) => failed.includes(id)));
    const devs = results.deviations.map((d) => d.id);
    const wanted = [...new Set(m.fails)].sort();
    const exact = JSON.stringify(failed) === JSON.stringify(wanted);
    const verdict: Outcome['verdict'] = m.deviation ? 'deviated' : failed.length === 0 ? 'survived' : exact && named ? 'killed' : 'misattributed';
    outcomes.push({ name: m.name, verdict, failed, diagnoses: results.diagnoses.map((d) => d.id), deviations: devs, buildExit });
    expect(failed, 'the deliverables that failed').toEqual(wanted);
    if (m.diagnosis) expect(named, `diagnosis ${m.diagnosis} named on a failing deliverable; got ${JSON.stringify(results.diagnoses.map((d) => [d.id, d.deliverables]))}`).toBe(true);
    if (m.deviation) expect(devs).toContain(m.deviation);
  });
});
