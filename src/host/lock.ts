import { linkSync, rmSync } from 'node:fs';
import { writeNewFile } from './files.ts';
import { alive, isAncestor } from './proc.ts';
import type { RunDir } from './run-dir.ts';
import { readJson } from '../util/read-json.ts';

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

/** Set to 1 in a process the lock's holder started, to act under the holder's lock. */
export const INHERIT_LOCK = 'ECOMNET_INHERIT_LOCK';

export function readHolder(d: RunDir): Holder | undefined {
  const h = readJson<Holder>(d.lock);
  return h && alive(h.pid) ? h : undefined;
}

/**
 * One platform per host. The holder is written to a file of our own first and then linked into
 * place, which fails if a lock exists: the lock is never seen empty. A dead holder's lock is
 * taken over; what the holder started may share it (INHERIT_LOCK).
 */
export function acquireLock(d: RunDir, command: string): () => void {
  // What the holder started acts under its lock when it says so (the grader suites of `npm test`
  // stop its platform); anything else, its own suites' `ecomnet up` included, is refused.
  const holder = readHolder(d);
  if (holder && process.env[INHERIT_LOCK] === '1' && isAncestor(holder.pid)) return () => {};
  const mine = `${d.lock}.${process.pid}`;
  writeNewFile(mine, JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() } satisfies Holder));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, d.lock);
        return () => releaseLock(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const h = readHolder(d);
        if (h) throw new LockedError(h);
        rmSync(d.lock, { force: true });
      }
    }
    throw new Error(`could not take the lock ${d.lock}`);
  } finally {
    rmSync(mine, { force: true });
  }
}

function releaseLock(d: RunDir): void {
  if (readJson<Holder>(d.lock)?.pid === process.pid) rmSync(d.lock, { force: true });
}
