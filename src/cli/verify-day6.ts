/**
 * `ecomnet verify --two-hosts`: grade a build of course day 6 (the lab across two hosts joined by a
 * VXLAN) against its deliverables: with --build (or --build-a and --build-b), the scripts run in two
 * virtual hosts of their own on one underlay, this machine untouched; with --hosts, two hosts
 * already up as virtual hosts, named by their PID 1s. Printed as verify prints, the same exit
 * codes: 0 all pass, 1 a deliverable failed, 2 inconclusive (could not judge), 3 usage error.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScript, gradeDay6Build, machinesOfPids } from '../grader/day6/build.ts';
import { type Day6Result, gradeDay6, type Machine } from '../grader/day6/grade.ts';
import { EXIT } from '../grader/grade.ts';
import type { Credentials } from '../grader/logins.ts';
import { day6Verdict, writeDay6Reports } from '../report/day6-report.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface VerifyDay6Options {
  /** One script for both hosts, run as `SCRIPT a|b THIS_IP OTHER_IP`. */
  build?: string;
  buildA?: string;
  buildB?: string;
  /** PID_A,PID_B: two hosts already up. */
  hosts?: string;
  reports?: string;
  json?: boolean;
  /** --pg-url/--redis-url: the logins the seed's checks use across both hosts (the seed's own otherwise). */
  credentials?: Credentials;
  /** The seed-only options given (--only, --teardown, ...): a usage error here. */
  seedOnly?: string[];
}

/** What was asked for, or why the command line cannot be read. */
function plan(o: VerifyDay6Options): { scripts: [string, string] } | { hosts: string } | string {
  if (o.seedOnly?.length) return `${o.seedOnly.map((x) => `--${x}`).join(', ')}: not with --two-hosts (the seed's lab only)`;
  const builds = o.build !== undefined || o.buildA !== undefined || o.buildB !== undefined;
  if (builds && o.hosts !== undefined) return '--hosts grades two hosts already up: not with --build';
  if (o.hosts !== undefined) return { hosts: o.hosts };
  if (o.build !== undefined && (o.buildA !== undefined || o.buildB !== undefined)) return '--build is one script for both hosts: not with --build-a/--build-b';
  if (o.build !== undefined) return { scripts: [o.build, o.build] };
  if (o.buildA !== undefined && o.buildB !== undefined) return { scripts: [o.buildA, o.buildB] };
  if (builds) return '--build-a and --build-b go together (one script per host)';
  return 'what to grade: --build SCRIPT (or --build-a A.sh --build-b B.sh), run in two virtual hosts, or --hosts PID_A,PID_B, two hosts already up';
}

/** The lines a person reads: each deliverable with its reason, then each cause with its fix. */
export function day6Lines(r: Day6Result): string[] {
  const out = r.deliverables.map((d) => `${{ pass: '✓', fail: '✗', inconclusive: '?' }[d.status]} ${d.id.padEnd(12)} ${d.title}${d.reason ? `\n    ${d.reason}` : ''}`);
  if (r.diagnoses.length) out.push('', 'causes (each once, with the deliverables it explains):');
  for (const f of r.diagnoses) out.push(`  ✗ ${f.cause}`, `    fix:      ${f.fix}`, `    explains: ${f.deliverables.join(', ') || 'nothing failed of it yet'}`);
  const pass = r.deliverables.filter((d) => d.status === 'pass').length;
  out.push('', `the seed's deliverables across both hosts: ${r.seed.score.points}/${r.seed.score.max} pass`);
  out.push(`day 6: ${pass}/${r.deliverables.length} pass · verdict: ${day6Verdict(r)}`);
  return out;
}

export async function verifyDay6(o: VerifyDay6Options): Promise<number> {
  const p = plan(o);
  if (typeof p === 'string') {
    console.error(`verify --two-hosts: ${p}`);
    return EXIT.usage;
  }
  const reports = resolve(o.reports ?? process.env.ECOMNET_REPORTS_DIR ?? join(root, 'reports'));
  const say = o.json ? (l: string) => console.error(l) : (l: string) => console.log(`  ${l}`);
  const t0 = performance.now();
  const errors: string[] = [];
  const logs = [join(reports, 'build-a.log'), join(reports, 'build-b.log')] as [string, string];
  let result: Day6Result;
  if ('scripts' in p) {
    try {
      p.scripts.forEach(buildScript);
    } catch (e) {
      console.error(`verify --two-hosts: ${(e as Error).message}`);
      return EXIT.usage;
    }
    mkdirSync(reports, { recursive: true });
    if (!o.json) console.log('verify --two-hosts: building each host in a virtual host of its own, both on one underlay, then grading course day 6');
    try {
      const b = await gradeDay6Build({ scripts: p.scripts, logs, progress: say, ...(o.credentials ? { credentials: o.credentials } : {}) });
      result = b.result;
      b.buildExits.forEach((x, i) => {
        if (x !== 0) errors.push(`host ${'ab'[i]}'s build exited ${x ?? 'at its time limit'} (its output: ${logs[i]})`);
      });
    } catch (e) {
      console.error(`verify --two-hosts: could not judge: ${(e as Error).message}`);
      return EXIT.inconclusive;
    }
  } else {
    let machines: [Machine, Machine];
    try {
      machines = await machinesOfPids(p.hosts);
    } catch (e) {
      console.error(`verify --two-hosts: ${(e as Error).message}`);
      return EXIT.usage;
    }
    if (!o.json) console.log(`verify --two-hosts: grading course day 6 on the hosts of pids ${p.hosts}, as they stand`);
    try {
      // As on two real machines: the underlay captured on host A's own eth0.
      result = await gradeDay6(...machines, { seed: { ...(o.credentials ? { credentials: o.credentials } : {}) } });
    } catch (e) {
      console.error(`verify --two-hosts: could not judge: ${(e as Error).message}`);
      return EXIT.inconclusive;
    }
  }
  const page = writeDay6Reports(result, reports, { errors, ...('scripts' in p ? { logs } : {}) });
  if (o.json) console.log(JSON.stringify({ verdict: day6Verdict(result), errors, ...result }));
  else {
    for (const line of day6Lines(result)) console.log(line);
    for (const e of errors) console.log(`verify: ${e}`);
    console.log(`reports: ${page} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return EXIT[day6Verdict(result)];
}
