import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Admin tools (sysctl, iptables, ss, nginx) live in /usr/sbin and /sbin, which a normal user's
 * PATH on Debian lacks (Ubuntu's has them): our children always find them, as sudo's secure_path does.
 */
const adminDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const pathDirs = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
process.env.PATH = [...pathDirs, ...adminDirs.filter((d) => !pathDirs.includes(d))].join(':');

/** Root runs privileged commands directly; anyone else through passwordless sudo. */
export const isRoot = process.getuid?.() === 0;

/** The argv prefix that makes a command privileged on this host. */
export const privPrefix: string[] = isRoot ? [] : ['sudo', '-n'];

let privileged: Promise<boolean> | undefined;

/** Root, or passwordless sudo (asked once per process): what changing this host needs. */
export function canPrivilege(): Promise<boolean> {
  privileged ??= isRoot ? Promise.resolve(true) : run(['sudo', '-n', 'true'], { allowFail: true }).then((r) => r.exitCode === 0);
  return privileged;
}

/**
 * Before anything is attempted: a user who can run no privileged command is told what is
 * needed and the command line to run instead, rather than a sudo error half way through.
 */
export async function requirePrivilege(): Promise<void> {
  if (await canPrivilege()) return;
  const uid = process.getuid!();
  const who = `${userNameOf(uid) ?? 'this user'} (uid ${uid})`;
  throw new Error(
    `\`ecomnet ${process.argv.slice(2).join(' ')}\` changes this host (namespaces, links, iptables, sysctls) and needs root, ` +
      `but ${who} has no passwordless sudo (sudo asks for a password). Nothing was changed. Run instead:\n  ${commandLineAs('root')}`,
  );
}

/** The account's name in /etc/passwd, if it has one. */
export function userNameOf(uid: number): string | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[2] === String(uid));
  return line?.split(':')[0];
}

const quoted = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);

/**
 * This process's command line (or another `command` of the CLI's) as `user` would type it through
 * sudo: `sudo npx ecomnet ARGS` when npm ran it, `sudo npm start -- ARGS` for the script that runs
 * this command line, else Node and the CLI by absolute path (sudo's secure_path may lack this Node).
 */
export function commandLineAs(user: string, command?: string[], argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  const sudo = user === 'root' ? 'sudo' : `sudo -u ${quoted(user)}`;
  const args = command ?? argv.slice(2);
  const script = env.npm_lifecycle_event;
  // An npm script that runs the CLI: the arguments after those the script itself gives are the user's.
  const words = env.npm_lifecycle_script?.split(/\s+/) ?? [];
  const cli = words.findIndex((w) => w.endsWith('bin/ecomnet.js'));
  if (script && script !== 'npx' && cli >= 0 && !command) {
    const extra = args.slice(words.length - cli - 1).map(quoted);
    const npm = script === 'start' ? ['npm', 'start'] : ['npm', 'run', script];
    return [sudo, ...npm, ...(extra.length ? ['--', ...extra] : [])].join(' ');
  }
  if (script) return [sudo, 'npx', 'ecomnet', ...args.map(quoted)].join(' ');
  return [sudo, ...[process.execPath, argv[1] ?? '', ...args].map(quoted)].join(' ');
}

export interface RunResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(result: RunResult) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`\`${result.command}\` exited ${result.exitCode}${detail ? `: ${detail}` : ''}`);
    this.result = result;
  }
}

export interface RunOptions {
  input?: string | Buffer;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Run argv as a privileged command (root or `sudo -n`). */
export function priv(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run([...privPrefix, ...argv], opts);
}

/**
 * Run argv as the current user. node:child_process rather than execa: loading execa cost
 * `ecomnet down` about a third of its time, more than the commands it runs.
 */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  const started = performance.now();
  return new Promise<RunResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (exitCode: number, extra = '') => {
      if (done) return;
      done = true;
      resolve({ command: argv.join(' '), stdout, stderr: stderr + extra, exitCode, durationMs: performance.now() - started });
    };
    // A process group of its own: a Ctrl-C or a signal to ours (npm start's) must not kill a step of
    // the teardown it starts; this process decides when its commands end.
    const child = spawn(file!, args, { env: opts.env ? { ...process.env, ...opts.env } : process.env, timeout: opts.timeoutMs, detached: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A command that exits without reading its input must not fail us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
    child.once('error', (e) => finish(-1, e.message));
    const killed = (signal: NodeJS.Signals | null) => (signal ? `killed by ${signal}${opts.timeoutMs ? ` (timeout ${opts.timeoutMs} ms)` : ''}` : '');
    child.once('close', (code, signal) => finish(code ?? -1, killed(signal)));
    // Timed out: what it started (curl under `bash -c`) may still hold the pipes, and 'close' waits for them.
    child.once('exit', (code, signal) => {
      if (!signal || !opts.timeoutMs) return;
      child.stdout.destroy();
      child.stderr.destroy();
      finish(code ?? -1, killed(signal));
    });
  }).then((result) => {
    if (result.exitCode !== 0 && !opts.allowFail) throw new CommandError(result);
    return result;
  });
}

/** argv that runs `argv` inside network namespace `ns`. */
export function inNs(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
