import { spawnSync } from 'node:child_process';
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
