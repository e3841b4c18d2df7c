import { execa, type Options } from 'execa';

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
  input?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Run argv as a privileged command (root or `sudo -n`). */
export function priv(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run([...privPrefix, ...argv], opts);
}

/** Run argv as the current user. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  const started = performance.now();
  const options: Options = {
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
  };
  const r = await execa(file!, args, options);
  const result: RunResult = {
    command: argv.join(' '),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.failed && r.exitCode === undefined ? String(r.shortMessage ?? '') : ''),
    exitCode: r.exitCode ?? -1,
    durationMs: performance.now() - started,
  };
  if (result.exitCode !== 0 && !opts.allowFail) throw new CommandError(result);
  return result;
}

/** argv that runs `argv` inside network namespace `ns`. */
export function inNs(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
