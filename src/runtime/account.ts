import { setprivArgv } from '../data/privilege.ts';
import { CommandError, priv } from '../host/exec.ts';
import { until } from '../util/wait.ts';
import { ACCOUNT_ROLES, type Account, type AccountRole, accountName, localAccount } from '../host/accounts.ts';
import type { Topology } from '../topology/types.ts';

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
