import { readFileSync } from 'node:fs';
import { setprivArgv } from '../data/privilege.ts';
import { CommandError, priv } from '../host/exec.ts';
import { until } from '../util/wait.ts';
import type { Topology } from '../topology/types.ts';

/** A unix account a server runs as. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** What runs under an account of its own: the three services and nginx's workers. */
export const ACCOUNT_ROLES = ['gateway', 'product', 'order', 'nginx'] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

/** useradd refuses longer names. */
const MAX_NAME = 32;

/** The account a role runs as on topology `t`: named from its tag, so another topology has its own. */
export function accountName(t: Pick<Topology, 'tag'>, role: AccountRole): string {
  const name = `${t.tag}-${role}`;
  if (name.length > MAX_NAME) throw new Error(`account ${name} would be longer than Linux's ${MAX_NAME} characters: choose a shorter tag than "${t.tag}"`);
  return name;
}

export const accountNames = (t: Pick<Topology, 'tag'>): string[] => ACCOUNT_ROLES.map((r) => accountName(t, r));

/** Fields of /etc/passwd or /etc/group, line by line (read, no process). */
function dbLines(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
}

/** A local account from /etc/passwd, or undefined. System accounts we create are always local. */
export function localAccount(name: string): Account | undefined {
  const f = dbLines('/etc/passwd').find((x) => x[0] === name);
  return f && f.length >= 4 ? { name, uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

/** The host's unprivileged `nobody`: for the simulated internet host, which is the outside world, not ours. */
export function nobody(): Account {
  const a = localAccount('nobody');
  if (!a) throw new Error('the account nobody is missing from /etc/passwd');
  return a;
}

/** A group's name from /etc/group (nginx's `user` directive takes names). */
export function groupName(gid: number): string {
  const f = dbLines('/etc/group').find((x) => Number(x[2]) === gid && x[0]);
  if (!f) throw new Error(`no group with gid ${gid} in /etc/group`);
  return f[0]!;
}

/**
 * useradd for a service account: a system account (uid below 1000, no aging), its own group and
 * no other, no home directory, and no login shell; never in sudo, whose rights come from groups.
 */
export function useraddArgv(name: string): string[] {
  return ['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'ecomnet service', name];
}

/**
 * The accounts of topology `t`, created when missing. `record` is called with each name before
 * it is created (the state file lists it, so `down` removes only what we created, even after a
 * crash); an account that already existed is used as it is, and never removed.
 */
export async function ensureAccounts(t: Pick<Topology, 'tag'>, record: (name: string) => void): Promise<Record<AccountRole, Account>> {
  const missing = ACCOUNT_ROLES.map((r) => accountName(t, r)).filter((name) => !localAccount(name));
  for (const name of missing) record(name);
  // One privileged shell for them all (a sudo each costs as much as the useradd), one useradd after
  // another: useradd locks /etc/passwd, and a second one at the same time fails. The first that fails stops it.
  const useradd = useraddArgv('')
    .slice(0, -1)
    .map((a) => `'${a}'`)
    .join(' ');
  if (missing.length) await priv(['sh', '-e', '-c', `for name; do ${useradd} "$name"; done`, 'sh', ...missing]);
  const out = {} as Record<AccountRole, Account>;
  for (const role of ACCOUNT_ROLES) {
    const name = accountName(t, role);
    const a = localAccount(name);
    if (!a) throw new Error(`useradd ${name} succeeded but ${name} is not in /etc/passwd`);
    if (a.uid === 0 || a.gid === 0) throw new Error(`account ${name} has uid or gid 0: it is not a service account; remove it or choose another tag`);
    out[role] = a;
  }
  return out;
}

/** userdel's exit when a process still runs as the account. */
const USER_BUSY = 8;

/**
 * Remove accounts we created (the names our state recorded) that still exist; userdel also
 * removes their own group. By now nothing of ours runs in our namespaces, so a process userdel
 * finds under the account's uid is one being reaped, or someone else's with the same number (a
 * virtual host's copy of /etc lends it our accounts): it is given a moment, then the entry,
 * which is ours, goes anyway (`userdel -f`) and that process keeps its number.
 */
export async function removeAccounts(names: string[]): Promise<void> {
  for (const n of names.filter((x) => localAccount(x))) {
    const first = await priv(['userdel', n], { allowFail: true });
    if (first.exitCode === 0) continue;
    if (first.exitCode !== USER_BUSY) throw new CommandError(first);
    const removed = await until(async () => (await priv(['userdel', n], { allowFail: true })).exitCode === 0, { timeoutMs: 3000, intervalMs: 200 });
    if (!removed) await priv(['userdel', '--force', n]);
  }
}

/** argv prefix dropping to an account with its groups, no capability and no_new_privs; setpriv execs, so the pid stays the server's. */
export function dropTo(a: Account): string[] {
  return setprivArgv(a.uid, a.gid);
}
