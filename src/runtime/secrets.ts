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
