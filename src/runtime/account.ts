import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setprivArgv } from '../data/privilege.ts';
import { isRoot, priv, run } from '../host/exec.ts';
import type { Progress } from '../host/network.ts';

/** The unix account our Node services run as. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** May read (never write) any file: for a checkout the account cannot reach, e.g. under /root. */
  readAll?: boolean;
}

/** What the services run: the account must be able to read it. */
export const serviceMain = fileURLToPath(new URL('../services/main.ts', import.meta.url));

/** A unix account from /etc/passwd (no process needed); `getent` covers directory services. */
export async function account(name: string): Promise<Account> {
  const local = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name);
  const fields = local ?? (await run(['getent', 'passwd', name], { allowFail: true })).stdout.trim().split(':');
  if (fields.length < 4 || fields[0] !== name) throw new Error(`unix user ${name} does not exist on this host`);
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** argv prefix dropping to an account with its groups; setpriv execs, so the pid stays the server's. */
export function dropTo(a: Account): string[] {
  return setprivArgv(a.uid, a.gid, a.readAll ? ['--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'] : []);
}

/**
 * Who our own services run as (ECOMNET_SERVICE_USER, else nobody under root, else the invoking
 * user), checked able to read the code and run node, or it would fail later, obscurely. A
 * checkout nobody can reach (under /root) is read by nobody with CAP_DAC_READ_SEARCH alone.
 */
export async function serviceAccount(progress: Progress = () => {}): Promise<Account> {
  const named = process.env.ECOMNET_SERVICE_USER;
  const chosen = await account(named ?? (isRoot ? 'nobody' : userInfo().username));
  if (await canRun(chosen)) return chosen;
  const reader = { ...chosen, readAll: true };
  if (isRoot && !named && (await canRun(reader))) {
    const checkout = serviceMain.slice(0, serviceMain.lastIndexOf('/src/'));
    progress(`services run as ${reader.name}, allowed to read (not write) every file: ${checkout} is not readable by ${reader.name}`, 0);
    return reader;
  }
  throw new Error(`user ${chosen.name} cannot read ${serviceMain} or run ${process.execPath}; put the checkout and node where ${chosen.name} can read them, or set ECOMNET_SERVICE_USER`);
}

async function canRun(a: Account): Promise<boolean> {
  const r = await priv([...dropTo(a), process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(serviceMain)})`], { allowFail: true });
  return r.exitCode === 0;
}
