/** The platform's service accounts, named from the topology's tag, and the local account database read without a process. */
import { readFileSync } from 'node:fs';
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
