import { readFileSync } from 'node:fs';

/** The process's state letter from /proc/PID/stat (R, S, T stopped, Z zombie, ...); undefined when there is no such process. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
}

/** Running, and not a zombie waiting for init to reap it (a detached server's parent is gone). */
export function alive(pid: number): boolean {
  const state = procState(pid);
  return state !== undefined && state !== 'Z';
}
