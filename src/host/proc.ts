import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat after the command name (state, ppid, ...); undefined when there is no such process. */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and every process it started, and they in turn (a server's workers and helpers), from /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (ppid) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** The process's state letter from /proc/PID/stat (R, S, T stopped, Z zombie, ...); undefined when there is no such process. */
export function procState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** Is `pid` this process's parent, grandparent, ... (a process it was started by)? */
export function isAncestor(pid: number): boolean {
  for (let p = process.ppid; p > 1; p = Number(statFields(p)?.[1] ?? 0)) if (p === pid) return true;
  return false;
}

/** Running, and not a zombie waiting for init to reap it (a detached server's parent is gone). */
export function alive(pid: number): boolean {
  const state = procState(pid);
  return state !== undefined && state !== 'Z';
}

/** When the process started (field 22 of /proc/PID/stat, clock ticks after boot); undefined when there is no such process. */
export function procStartTime(pid: number): number | undefined {
  const ticks = statFields(pid)?.[19];
  return ticks === undefined ? undefined : Number(ticks);
}

/**
 * Is the process recorded as this pid and start time still running? A pid alone may name a later
 * process the kernel gave the same number; without a recorded start time it cannot be told, so no.
 */
export function sameProcess(p: { pid: number; startTime?: number }): boolean {
  return p.startTime !== undefined && alive(p.pid) && procStartTime(p.pid) === p.startTime;
}
