import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAncestor, processTree } from '../../src/host/proc.ts';
import { waitFor } from '../../src/util/wait.ts';

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

describe('processTree: a server and what it started', () => {
  it('holds the process, its children and theirs, and nothing else', async () => {
    // sh -> (sh -> sleep), sleep: two levels under the first shell.
    const top = spawn('sh', ['-c', 'sh -c "sleep 30 & wait" & sleep 30 & wait'], { stdio: 'ignore' });
    try {
      const tree = await waitFor(
        () => {
          const t = processTree(top.pid!);
          if (t.length < 4) throw new Error(`${t.length} processes so far`);
          return t;
        },
        { what: 'the shells and their sleeps', timeoutMs: 5000, intervalMs: 20 },
      );
      expect(tree[0]).toBe(top.pid);
      expect(tree).toHaveLength(4);
      expect(tree).not.toContain(process.pid);
    } finally {
      for (const pid of processTree(top.pid!)) process.kill(pid, 'SIGKILL');
    }
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
