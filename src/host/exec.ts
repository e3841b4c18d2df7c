import { spawn } from 'node:child_process';

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
    const child = spawn(file!, args, { env: opts.env ? { ...process.env, ...opts.env } : process.env, timeout: opts.timeoutMs });
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
