import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAncestor } from '../../src/host/proc.ts';

const proc = join(import.meta.dirname, '..', '..', 'src', 'host', 'proc.ts');
/** isAncestor(pid) as a grandchild of this process sees it (node -> sh -> node). */
const fromGrandchild = (pid: number) =>
  spawnSync('sh', ['-c', `"${process.execPath}" -e 'import(process.argv[1]).then((m) => console.log(m.isAncestor(${pid})))' '${proc}'; true`], { encoding: 'utf8' }).stdout.trim();

describe('isAncestor: may a process act under the lock its starter holds', () => {
  it('is true for the process that started it, however many levels up', () => {
    expect(fromGrandchild(process.pid)).toBe('true');
  });

  it('is false for itself, for init and for an unrelated or absent process', () => {
    expect(isAncestor(process.pid)).toBe(false);
    expect(isAncestor(1)).toBe(false);
    const sibling = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    expect(fromGrandchild(Number(sibling))).toBe('false');
  });
});

describe('acquireLock: a process the holder started shares its lock only when it says so', () => {
  const lock = join(import.meta.dirname, '..', '..', 'src', 'host', 'lock.ts');
  const runDir = join(import.meta.dirname, '..', '..', 'src', 'host', 'run-dir.ts');
  /** acquireLock in a child of this process, while this process holds the lock: 'shared', 'locked' or another error's message. */
  function childTakes(dir: string, env: Record<string, string>): string {
    const code = `Promise.all([import(process.argv[1]), import(process.argv[2])]).then(([l, r]) => { try { l.acquireLock(r.runDirAt(process.argv[3]), 'child'); console.log('shared'); } catch (e) { console.log(e instanceof l.LockedError ? 'locked' : e.message); } })`;
    return spawnSync(process.execPath, ['-e', code, lock, runDir, dir], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
  }

  it('refuses a child by default (a second `ecomnet up` from a test), shares with one that sets ECOMNET_INHERIT_LOCK=1', async () => {
    const { acquireLock, INHERIT_LOCK } = await import('../../src/host/lock.ts');
    const { runDirAt } = await import('../../src/host/run-dir.ts');
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-lock-'));
    const release = acquireLock(runDirAt(dir), 'npm test');
    try {
      expect(childTakes(dir, { [INHERIT_LOCK]: '' })).toBe('locked');
      expect(childTakes(dir, { [INHERIT_LOCK]: '1' })).toBe('shared');
      expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    } finally {
      release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
