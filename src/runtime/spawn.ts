import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { getCompileCacheDir } from 'node:module';
import type { Writable } from 'node:stream';
import { inNs, priv, privPrefix, run } from '../host/exec.ts';
import { sameProcess } from '../host/proc.ts';
import { until, waitFor } from '../wait.ts';
import { LOG_LIMIT, logKeeperScript } from './log-keeper.ts';

/** Writes its pid to $0, then execs "$@"; noclobber: root's shell creates the file exclusively, never through a link left there. */
export const PID_FILE_SHELL = 'set -C && echo $$ > "$0" && exec "$@"';

export interface Started {
  /** The server's own pid (not sudo's, which stays as its parent). */
  pid: number;
  /** Rejects if the process exits while this CLI is still watching it. */
  exited: Promise<never>;
}

const keeperArgv = (file: string, ...more: string[]) => [
  process.execPath,
  '--max-old-space-size=32',
  '--max-semi-space-size=1',
  logKeeperScript,
  file,
  String(LOG_LIMIT.maxBytes),
  String(LOG_LIMIT.keep),
  ...more,
];

/**
 * The CLI's compile cache (bin/compile-cache.js), when it has one: a keeper compiled from it
 * never loads the TypeScript stripper, which halves its memory (about 22 MB instead of 40 MB PSS).
 */
function keeperEnv(): NodeJS.ProcessEnv {
  const cache = getCompileCacheDir();
  return cache ? { ...process.env, NODE_COMPILE_CACHE: cache } : process.env;
}

/**
 * A log keeper (log-keeper.ts) for `file`, detached like the server it serves; its stdin is the
 * pipe the server writes to. It runs as we do, outside the namespace, and ends with the server.
 */
function logKeeper(file: string): ChildProcess & { stdin: Writable } {
  const [node, ...args] = keeperArgv(file);
  const keeper = spawn(node!, args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env: keeperEnv() });
  keeper.unref();
  return keeper as ChildProcess & { stdin: Writable };
}

/**
 * A named pipe at `fifo` for a server that opens its log by path, kept into `file` by a log
 * keeper until the server whose pid `pidFile` will hold is gone. Start it before the server.
 */
export async function fifoLogKeeper(file: string, fifo: string, pidFile: string): Promise<void> {
  // The keeper watches the first pid this file names: never the server before this one.
  rmSync(pidFile, { force: true });
  rmSync(fifo, { force: true });
  await run(['mkfifo', '-m', '0600', fifo]);
  const [node, ...args] = keeperArgv(file, fifo, pidFile);
  spawn(node!, args, { detached: true, stdio: 'ignore', env: keeperEnv() }).unref();
}

/**
 * Start argv inside a namespace, detached from this process (so `up --detach` can return),
 * stdout and stderr going to `log` through a log keeper that bounds and rotates it. Under sudo the child we spawn is sudo, which forks the
 * command and waits: a shell writes its own pid to `pidFile` and then execs the command
 * (ip netns exec, setpriv and env exec too), so that pid is the server's.
 */
export async function spawnInNs(ns: string, argv: string[], log: string, pidFile: string): Promise<Started> {
  rmSync(pidFile, { force: true });
  const keeper = logKeeper(log);
  const wrapped = ['sh', '-c', PID_FILE_SHELL, pidFile, ...inNs(ns, argv)];
  const [file, ...args] = [...privPrefix, ...wrapped];
  const child = spawn(file!, args, { detached: true, stdio: ['ignore', keeper.stdin, keeper.stdin] });
  // Only the server holds the pipe now: the keeper sees its end when the server is gone.
  keeper.stdin.destroy();
  child.unref();
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`could not start: ${e.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`exited ${signal ?? code} before it was ready`)));
  });
  exited.catch(() => {});
  const pid = await Promise.race([waitFor(() => readPid(pidFile), { what: `the pid file ${pidFile}`, timeoutMs: 10_000, intervalMs: 5 }), exited]);
  return { pid, exited };
}

/** Throws until the shell has written "PID\n" (one write: without the newline it is not complete yet). */
function readPid(file: string): number {
  const text = readFileSync(file, 'utf8');
  if (!text.endsWith('\n')) throw new Error('not written yet');
  return Number(text.trim());
}

/**
 * Signal, wait, then SIGKILL what did not go; privileged because servers may run as root or
 * another user. Only the process recorded (pid and start time): one that is gone, or whose pid
 * now names another process, is left alone.
 */
export async function stopPid(p: { pid: number; startTime?: number }, signal: 'TERM' | 'INT' | 'KILL' = 'TERM', graceMs = 8000): Promise<void> {
  if (!sameProcess(p)) return;
  await priv(['kill', `-${signal}`, String(p.pid)], { allowFail: true });
  if (!(await until(() => !sameProcess(p), { timeoutMs: graceMs, intervalMs: 50 }))) await priv(['kill', '-KILL', String(p.pid)], { allowFail: true });
}

export function lastLines(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
