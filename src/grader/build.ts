/**
 * Grading a build script without letting it touch this machine: the script runs as root in a
 * fresh virtual host of its own (src/vhost), the grader runs there after it, from the world
 * behind the host's uplink, and the host is thrown away. Whatever the script does (an
 * `iptables -F`, accounts, services, a kernel setting) happens in that host and goes with it.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_DOCKER, seenInside, VirtualHost, WORLD } from '../vhost/vhost.ts';
import { type GradeResult, withoutDocker } from './grade.ts';
import type { Credentials } from './logins.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const inside = join(root, 'src', 'grader', 'inside.ts');

export interface BuildOptions {
  script: string;
  /** Run after grading, in the same host: its output joins the build log. */
  teardown?: string;
  /** Where the build's (and its servers') output goes, on this machine. */
  log: string;
  only?: string;
  credentials?: Credentials;
  /** The host's FORWARD: ACCEPT, or Docker's chains and DROP as on a GitHub runner. */
  forward?: 'ACCEPT' | 'docker';
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** The reachability matrix (30 pings) in the build's report (default); a class, graded for its verdicts, leaves it out. */
  matrix?: boolean;
  /** The build's time limit (default 5 minutes): past it, it is ended and the lab graded as it stands. */
  timeoutMs?: number;
  name?: string;
  progress?: (line: string) => void;
}

export interface BuildOutcome {
  result: GradeResult;
  /** The script's exit code; null when it was ended at its time limit. */
  buildExit: number | null;
  teardownExit?: number | null;
  /** Wall time of each step, in ms. */
  timings: { host: number; build: number; grade: number; teardown?: number; total: number };
}

/** Runs `argv` inside with its output appended to the log; resolves with its exit code (null when it was ended at its time limit). */
export function runLogged(vh: VirtualHost, argv: string[], cwd: string, log: string, timeoutMs: number): Promise<number | null> {
  const fd = openSync(log, 'a');
  try {
    const child = vh.spawn(argv, { cwd, stdio: ['ignore', fd, fd] });
    return new Promise((resolveExit) => {
      // Its servers keep the log open: the script is done when it exits, not when its output closes.
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolveExit(null);
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      });
      child.once('error', () => {
        clearTimeout(timer);
        resolveExit(-1);
      });
    });
  } finally {
    closeSync(fd);
  }
}

/** The script where the host sees it: its directory copied in when it is in a place the host has of its own. */
export async function placeScript(vh: VirtualHost, script: string): Promise<void> {
  const dir = dirname(script);
  if (seenInside(dir)) return;
  const tar = spawnSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 256 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`could not read ${dir}: ${tar.stderr.toString()}`);
  const r = await vh.exec(['sh', '-c', 'mkdir -p "$1" && tar -C "$1" -xf -', 'sh', dir], { input: tar.stdout, allowFail: true });
  if (r.exitCode !== 0) throw new Error(`could not copy ${dir} into the virtual host: ${r.stderr}`);
}

export async function gradeBuild(o: BuildOptions): Promise<BuildOutcome> {
  const script = resolve(o.script);
  if (!existsSync(script) || !statSync(script).isFile()) throw new Error(`${o.script}: no such build script`);
  const teardown = o.teardown ? resolve(o.teardown) : undefined;
  if (teardown && !existsSync(teardown)) throw new Error(`${o.teardown}: no such teardown script`);
  const say = o.progress ?? (() => {});
  const t0 = performance.now();
  const vh = await VirtualHost.create({ ...(o.name ? { label: o.name } : {}), forward: o.forward ?? 'ACCEPT' });
  const tHost = performance.now();
  try {
    await placeScript(vh, script);
    if (teardown && dirname(teardown) !== dirname(script)) await placeScript(vh, teardown);
    say(`${vh.name}: building with ${o.script}`);
    // Node for a build that runs ecomnet's services; the admin directories a normal user's PATH lacks.
    const path = `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    const env = Object.entries({ PATH: path, HOME: '/root', ...o.env }).map(([k, v]) => `${k}=${v}`);
    const buildExit = await runLogged(vh, ['env', ...env, 'bash', script], dirname(script), o.log, o.timeoutMs ?? 300_000);
    const tBuild = performance.now();
    say(`${vh.name}: built (exit ${buildExit ?? 'timeout'}), grading`);
    const options = { only: o.only, netns: WORLD.netns, uplink: WORLD.uplink, credentials: o.credentials, script, matrix: o.matrix !== false };
    const graded = await vh.exec([process.execPath, inside, JSON.stringify(options)], { cwd: root, allowFail: true, timeoutMs: 180_000 });
    const tGrade = performance.now();
    let result: GradeResult;
    try {
      result = JSON.parse(graded.stdout.trim().split('\n').at(-1) ?? '') as GradeResult;
    } catch {
      throw new Error(`the grader in ${vh.name} gave no result (exit ${graded.exitCode}): ${graded.stderr.trim().split('\n').slice(-5).join('\n')}`);
    }
    // The docker client names the socket it tried: this host's says it has no engine.
    if (readFileSync(o.log, 'utf8').includes(NO_DOCKER.replace('unix://', ''))) {
      result = withoutDocker(
        result,
        'the build asked for Docker, which a virtual host does not have: what it would have run in a container could not be judged (grade it where Docker runs: `sudo bash build.sh && npx ecomnet verify`)',
      );
    }
    say(`${vh.name}: graded (${result.score.points}/${result.score.max}), ${teardown ? 'tearing down, then removing the host' : 'removing the host'}`);
    let teardownExit: number | null | undefined;
    if (teardown) teardownExit = await runLogged(vh, ['env', ...env, 'bash', teardown], dirname(teardown), o.log, 120_000);
    const tEnd = performance.now();
    return {
      result,
      buildExit,
      ...(teardown ? { teardownExit } : {}),
      timings: { host: tHost - t0, build: tBuild - tHost, grade: tGrade - tBuild, ...(teardown ? { teardown: tEnd - tGrade } : {}), total: tEnd - t0 },
    };
  } finally {
    await vh.destroy();
  }
}
