import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from './proc.ts';
import { runDir } from './state.ts';

export const lockPath = join(runDir, 'lock');

export interface Holder {
  pid: number;
  command: string;
  since: string;
}

export class LockedError extends Error {
  readonly holder: Holder;
  constructor(h: Holder) {
    super(`another ecomnet is running on this host: pid ${h.pid} (\`${h.command}\`, since ${h.since}). Stop it (Ctrl-C, or \`ecomnet down\`) first.`);
    this.holder = h;
  }
}

export function readHolder(): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(lockPath, 'utf8')) as Holder;
    return alive(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

/** One platform per host: O_EXCL create, a dead holder's lock is taken over. */
export function acquireLock(command: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() } satisfies Holder));
      closeSync(fd);
      return () => releaseLock();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = readHolder();
      if (h) throw new LockedError(h);
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not take the lock ${lockPath}`);
}

export function releaseLock(): void {
  try {
    const h = JSON.parse(readFileSync(lockPath, 'utf8')) as Holder;
    if (h.pid === process.pid) rmSync(lockPath, { force: true });
  } catch {
    // no lock, nothing to release
  }
}
