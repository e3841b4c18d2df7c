import { readFileSync } from 'node:fs';

/** Running, and not a zombie waiting for init to reap it (a detached server's parent is gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
