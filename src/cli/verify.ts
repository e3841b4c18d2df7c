/**
 * `ecomnet verify`: grade a build of the seed's lab against its 27 deliverables, in this
 * process: what stands on this host (a learner's own machine), or, with --build, a script run in a
 * virtual host of its own so that nothing it does touches this one. One line per deliverable,
 * each cause once with the deliverables it explains, a score, the reports; the exit code says
 * pass (0), fail (1), inconclusive (2: the grader could not judge) or a usage error (3).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradeBuild } from '../grader/build.ts';
import { selectDeliverables } from '../grader/deliverables.ts';
import { EXIT, exitCodeOf, type GradeResult, grade, type Status } from '../grader/grade.ts';
import type { Credentials } from '../grader/logins.ts';
import type { HostModel } from '../grader/model.ts';
import { runDirAt } from '../host/run-dir.ts';
import { writeGradeReports } from '../report/grade-report.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface VerifyOptions {
  /** Tasks, phases or deliverable ids to grade (`1.1,1.2`, `phase1`); the rest is not graded. */
  only?: string;
  /** 1 or 2: the phase to grade (the same as --only phase1). */
  phase?: string;
  /** A build script to run in a virtual host of its own, then grade there. */
  build?: string;
  teardown?: string;
  /** The virtual host's FORWARD as on a GitHub runner with Docker (policy DROP, Docker's chains). */
  dockerForward?: boolean;
  pgUrl?: string;
  redisUrl?: string;
  /** Where the reports go (default: the repository's reports/). */
  reports?: string;
  /** The result as JSON on standard output instead of the lines. */
  json?: boolean;
}

const MARK: Record<Status, string> = { pass: '✓', fail: '✗', inconclusive: '?', 'not graded': '-' };

/** The selection both flags make: --phase N is --only phaseN. */
function selection(o: VerifyOptions): string | undefined {
  if (o.phase !== undefined && !['1', '2'].includes(o.phase)) throw new UsageError(`--phase ${o.phase}: 1 or 2`);
  const parts = [...(o.only ? [o.only] : []), ...(o.phase ? [`phase${o.phase}`] : [])];
  return parts.length ? parts.join(',') : undefined;
}

class UsageError extends Error {}

/** The lines a person reads: each deliverable, then each cause once with what it explains. */
export function verdictLines(r: GradeResult): string[] {
  const out = r.deliverables.map(
    (d) => `${MARK[d.status]} ${d.id.padEnd(28)} ${d.status === 'not graded' ? 'not graded' : d.title}${d.status === 'inconclusive' ? `\n    could not judge: ${d.reason}` : ''}`,
  );
  if (r.diagnoses.length) out.push('', 'causes (each once, with the deliverables it explains):');
  for (const f of r.diagnoses) out.push(`  ✗ ${f.cause}`, `    fix:      ${f.fix}`, `    explains: ${f.deliverables.join(', ')}`);
  const unexplained = r.deliverables.filter((d) => d.status === 'fail' && !r.diagnoses.some((f) => f.deliverables.includes(d.id)));
  for (const d of unexplained) out.push(`  ✗ ${d.id}: ${d.reason?.split('\n')[0] ?? 'failed'}`);
  if (r.deviations.length || r.advice.length) out.push('');
  for (const x of r.deviations) out.push(`deviation (accepted): ${x.text}`);
  for (const x of r.advice) out.push(`advice: ${x.text}`);
  for (const e of r.errors) out.push(`verify: ${e}`);
  const count = (s: Status) => r.deliverables.filter((d) => d.status === s).length;
  const parts = [
    `${count('pass')} pass`,
    `${count('fail')} fail`,
    ...(count('inconclusive') ? [`${count('inconclusive')} inconclusive`] : []),
    ...(count('not graded') ? [`${count('not graded')} not graded`] : []),
  ];
  out.push('', `score: ${r.score.points}/${r.score.max} · ${parts.join(', ')} · verdict: ${r.verdict}`);
  return out;
}

export async function verify(o: VerifyOptions): Promise<number> {
  let only: string | undefined;
  try {
    only = selection(o);
    selectDeliverables(only);
  } catch (e) {
    console.error(`verify: ${(e as Error).message}`);
    return EXIT.usage;
  }
  const reports = resolve(o.reports ?? process.env.ECOMNET_REPORTS_DIR ?? join(root, 'reports'));
  mkdirSync(reports, { recursive: true });
  const given: Credentials = { ...(o.pgUrl ? { pgUrl: o.pgUrl } : {}), ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}) };
  const say = o.json ? (l: string) => console.error(l) : (l: string) => console.log(`  ${l}`);
  const t0 = performance.now();
  let result: GradeResult;
  let buildLog: string | undefined;
  if (o.build) {
    buildLog = join(reports, 'build.log');
    rmSync(buildLog, { force: true });
    if (!o.json) console.log(`verify: building ${o.build} in a virtual host of its own, then grading it there`);
    try {
      const b = await gradeBuild({
        script: o.build,
        ...(o.teardown ? { teardown: o.teardown } : {}),
        log: buildLog,
        ...(only ? { only } : {}),
        credentials: given,
        forward: o.dockerForward ? 'docker' : 'ACCEPT',
        progress: say,
      });
      result = b.result;
      if (b.buildExit !== 0) result.errors.unshift(`the build exited ${b.buildExit ?? 'at its time limit'} (its output: ${buildLog})`);
      if (b.teardownExit !== undefined && b.teardownExit !== 0) result.errors.push(`the teardown exited ${b.teardownExit ?? 'at its time limit'} (its output: ${buildLog})`);
    } catch (e) {
      console.error(`verify: ${(e as Error).message}`);
      return EXIT.usage;
    }
  } else {
    if (!o.json) console.log("verify: judging the lab on this host against the seed's contract");
    // On ecomnet's own platform, its run's logins, but only while that platform is the one serving.
    const { handshakeLogins } = await import('../runtime/handshake.ts');
    const credentials = Object.keys(given).length
      ? given
      : (model: HostModel) => {
          const handed = handshakeLogins(runDirAt(), model);
          if (handed) Object.assign(given, handed);
          return handed;
        };
    result = await grade({ ...(only ? { only } : {}), credentials, progress: say });
  }
  const page = writeGradeReports(result, reports, { ...(buildLog ? { buildLog } : {}), secrets: secretsOf(given) });
  if (o.json) console.log(JSON.stringify(result));
  else {
    for (const line of verdictLines(result)) console.log(line);
    console.log(`reports: ${page} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return exitCodeOf(result);
}

const secretsOf = (c: Credentials): string[] =>
  [c.pgUrl, c.redisUrl].flatMap((u) => {
    if (!u) return [];
    try {
      return [decodeURIComponent(new URL(u).password)].filter(Boolean);
    } catch {
      return [];
    }
  });
