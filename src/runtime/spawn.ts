import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';
import { inNs, priv, privPrefix, run } from '../host/exec.ts';
import { openForAppend } from '../host/files.ts';
import { sameProcess } from '../host/proc.ts';
import { until, waitFor } from '../util/wait.ts';
import { type LogKeeper, openOwnPipe, pipeOf } from './log-keeper.ts';

/** Writes its pid to $0, then execs "$@"; noclobber: root's shell creates the file exclusively, never through a link left there. */
export const PID_FILE_SHELL = 'set -C && echo $$ > "$0" && exec "$@"';

export interface Started {
  /** The server's own pid (not sudo's, which stays as its parent). */
  pid: number;
  /** Rejects if the process exits while this CLI is still watching it. */
  exited: Promise<never>;
}

/**
 * Readers this process holds on pipes no keeper reads yet: `up` starts the servers before the
 * supervisor, their keeper, so a server's first lines wait in its pipe rather than fail.
 */
const held: number[] = [];
let keeper: LogKeeper | undefined;

/** Let go of the pipes held for the keeper, once it reads them (the supervisor has recorded itself). */
export function releaseHeldPipes(): void {
  for (const fd of held.splice(0)) closeSync(fd);
}

/** In the process that keeps the platform's logs (the supervisor): a server started from now on is kept at once. */
export function keepLogsWith(k: LogKeeper | undefined): void {
  keeper = k;
  releaseHeldPipes();
}

/**
 * A descriptor writing into `log`'s pipe (made 0600 if missing, kept by the platform's keeper).
 * The server gets the write end alone: with a read end of its own it would block once the pipe
 * filled with no keeper, where without one its writes fail and it goes on.
 */
export async function logPipe(log: string): Promise<number> {
  const fifo = pipeOf(log);
  let reader = openOwnPipe(fifo, constants.O_RDONLY);
  if (reader === undefined) {
    rmSync(fifo, { force: true });
    await run(['mkfifo', '-m', '0600', fifo]);
    reader = openOwnPipe(fifo, constants.O_RDONLY);
    if (reader === undefined) throw new Error(`could not make the log pipe ${fifo}`);
  }
  // A reader is open, so opening for writing does not wait.
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NOFOLLOW);
  if (keeper) {
    keeper.keep(log);
    closeSync(reader);
  } else held.push(reader);
  return writer;
}

/**
 * Start argv inside a namespace, detached from this process (so `up --detach` can return),
 * stdout and stderr going to `log`: through its pipe to the platform's log keeper, which bounds
 * and rotates it, or (`direct`, a server with no keeper: the simulated internet host of
 * `up --network-only`) appended to the file itself. Under sudo the child we spawn is sudo, which
 * forks the command and waits: a shell writes its own pid to `pidFile` and then execs the
 * command (ip netns exec, setpriv and env exec too), so that pid is the server's.
 */
export async function spawnInNs(ns: string, argv: string[], log: string, pidFile: string, direct = false): Promise<Started> {
  rmSync(pidFile, { force: true });
  const out = direct ? openForAppend(log, 0o600) : await logPipe(log);
  const wrapped = ['sh', '-c', PID_FILE_SHELL, pidFile, ...inNs(ns, argv)];
  const [file, ...args] = [...privPrefix, ...wrapped];
  const child = spawn(file!, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
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
