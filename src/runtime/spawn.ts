import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { inNs, priv, privPrefix, run } from '../host/exec.ts';
import { alive } from '../host/proc.ts';
import { waitUntil } from '../data/child.ts';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** May read (never write) any file: for a checkout the account cannot reach, e.g. under /root. */
  readAll?: boolean;
}

/** A unix account from /etc/passwd (no process needed); `getent` covers directory services. */
export async function account(name: string): Promise<Account> {
  const local = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
  const fields = local ?? (await run(['getent', 'passwd', name], { allowFail: true })).stdout.trim().split(':');
  if (fields.length < 4 || fields[0] !== name) throw new Error(`unix user ${name} does not exist on this host`);
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** argv prefix dropping to an account with its groups; setpriv execs, so the pid stays the server's. */
export function dropTo(a: Account): string[] {
  const caps = a.readAll ? ['--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'] : [];
  return ['setpriv', `--reuid=${a.uid}`, `--regid=${a.gid}`, '--init-groups', ...caps, '--'];
}

export interface Started {
  /** The server's own pid (not sudo's, which stays as its parent). */
  pid: number;
  /** Rejects if the process exits while this CLI is still watching it. */
  exited: Promise<never>;
}

/**
 * Start argv inside a namespace, detached from this process (so `up --detach` can return),
 * stdout and stderr appended to `log`. Under sudo the child we spawn is sudo, which forks the
 * command and waits: a shell writes its own pid to `pidFile` and then execs the command
 * (ip netns exec, setpriv and env exec too), so that pid is the server's.
 */
export async function spawnInNs(ns: string, argv: string[], log: string, pidFile: string): Promise<Started> {
  rmSync(pidFile, { force: true });
  const fd = openSync(log, 'a', 0o644);
  const wrapped = ['sh', '-c', 'echo $$ > "$0" && exec "$@"', pidFile, ...inNs(ns, argv)];
  const [file, ...args] = [...privPrefix, ...wrapped];
  const child = spawn(file!, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`could not start: ${e.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`exited ${signal ?? code} before it was ready`)));
  });
  exited.catch(() => {});
  const pid = await Promise.race([waitUntil(async () => readPid(pidFile), 10_000, `the pid file ${pidFile}`, 5), exited]);
  return { pid, exited };
}

/** Throws until the shell has written "PID\n" (one write: without the newline it is not complete yet). */
function readPid(file: string): number {
  const text = readFileSync(file, 'utf8');
  if (!text.endsWith('\n')) throw new Error('not written yet');
  return Number(text.trim());
}

/** Signal, wait, then SIGKILL what did not go; privileged because servers may run as root or another user. */
export async function stopPid(pid: number, signal: 'TERM' | 'INT' = 'TERM', graceMs = 8000): Promise<void> {
  if (!alive(pid)) return;
  await priv(['kill', `-${signal}`, String(pid)], { allowFail: true });
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) await priv(['kill', '-KILL', String(pid)], { allowFail: true });
}

export function lastLines(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
