import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { inNs, priv, privPrefix, run } from '../host/exec.ts';
import { alive } from '../host/proc.ts';

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
  pid: number;
  /** Rejects if the process exits while this CLI is still watching it. */
  exited: Promise<never>;
}

/**
 * Start argv inside a namespace, detached from this process (so `up --detach` can return),
 * stdout and stderr appended to `log`.
 */
export function spawnInNs(ns: string, argv: string[], log: string): Started {
  const fd = openSync(log, 'a', 0o644);
  const [file, ...args] = [...privPrefix, ...inNs(ns, argv)];
  const child = spawn(file!, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`could not start: ${e.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`exited ${signal ?? code} before it was ready`)));
  });
  exited.catch(() => {});
  return { pid: child.pid ?? -1, exited };
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
