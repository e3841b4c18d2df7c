import { chownSync } from 'node:fs';
import { generatePassword } from '../data/password.ts';
import { isRoot } from '../host/exec.ts';
import { writeNewFile } from '../host/files.ts';
import type { RunDir } from '../host/run-dir.ts';
import type { Account } from './account.ts';
import { readJson } from '../read-json.ts';

/** The run's passwords, new for every `up`. */
export interface Secrets {
  postgres: string;
  redis: string;
}

export const newSecrets = (): Secrets => ({ postgres: generatePassword(), redis: generatePassword() });

export const readSecrets = (d: RunDir): Secrets | undefined => readJson<Secrets>(d.secrets);

/** A file only its owner may read: the invoking user's, or `owner`'s when we are root. */
export function writePrivate(file: string, content: string, owner?: Account): void {
  writeNewFile(file, content, 0o600);
  if (owner && isRoot) chownSync(file, owner.uid, owner.gid);
}

export const writeSecrets = (d: RunDir, s: Secrets): void => writePrivate(d.secrets, JSON.stringify(s));
