import { chownSync } from 'node:fs';
import { generatePassword } from '../data/password.ts';
import { isRoot, priv } from '../host/exec.ts';
import { writeNewFile } from '../host/files.ts';
import type { RunDir } from '../host/run-dir.ts';
import type { Account } from '../host/accounts.ts';
import { readJson } from '../util/read-json.ts';

/** The run's passwords, new for every `up`. */
export interface Secrets {
  /** PostgreSQL's superuser: setting up the database, nothing after. */
  postgres: string;
  redis: string;
  /** The order service's own PostgreSQL role. */
  orders: string;
  /** The operator's read-only PostgreSQL role (the seed's `SELECT * FROM orders`). */
  reader: string;
  /** The operator's token for reading orders through the API (`Authorization: Bearer`). */
  operator: string;
}

export const newSecrets = (): Secrets => ({ postgres: generatePassword(), redis: generatePassword(), orders: generatePassword(), reader: generatePassword(), operator: generatePassword() });

export const readSecrets = (d: RunDir): Secrets | undefined => readJson<Secrets>(d.secrets);

/** A file only its owner may read: the invoking user's. */
export function writePrivate(file: string, content: string): void {
  writeNewFile(file, content, 0o600);
}

/** A file only `owner` may read (0600): written anew as the invoking user, then given to `owner` (through sudo when we are not root). */
export async function writeOwnedBy(file: string, content: string, owner: Account): Promise<void> {
  writePrivate(file, content);
  if (isRoot) chownSync(file, owner.uid, owner.gid);
  else await priv(['chown', `${owner.uid}:${owner.gid}`, file]);
}

export const writeSecrets = (d: RunDir, s: Secrets): void => writePrivate(d.secrets, JSON.stringify(s));

/** `up --secrets FILE`: another host's run secrets (a multi-host platform shares one set), every field a password. */
export function parseSecrets(text: string, from: string): Secrets {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${from} is not JSON: --secrets takes the secrets file of the first host's run`);
  }
  const keys = Object.keys(newSecrets()) as (keyof Secrets)[];
  const o = raw as Record<string, unknown>;
  const bad = keys.filter((k) => typeof o?.[k] !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(o[k] as string));
  if (typeof raw !== 'object' || raw === null || bad.length) throw new Error(`${from}: ${bad.join(', ')} missing or not a password (--secrets takes the secrets file of the first host's run)`);
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as unknown as Secrets;
}
