import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sysctl } from '../plan/plan.ts';
import { isRoot, priv } from './exec.ts';

/** Where a platform's state, lock, configs, data and logs live; /run so a reboot forgets it with the namespaces. */
export const runDir = process.env.ECOMNET_RUN_DIR ?? '/run/ecomnet';
export const statePath = join(runDir, 'state.json');

export interface ServiceRecord {
  name: string;
  ns: string;
  pid: number;
  log: string;
}

/** Everything we changed on the host, written before each change so a crash leaves a full account. */
export interface State {
  version: 1;
  tag: string;
  startedAt: string;
  phase: 'applying' | 'up' | 'down';
  namespaces: string[];
  bridges: string[];
  /** Host-side veth peers: removed by the kernel with their namespace, asynchronously, so waited for. */
  veths?: string[];
  sysctls: Sysctl[];
  rules: string[];
  services: ServiceRecord[];
  /** Docker containers we started (containers mode), by id. */
  containers: string[];
  options: Record<string, unknown>;
}

export async function ensureRunDir(): Promise<void> {
  if (existsSync(runDir) && (isRoot || isWritable())) return;
  if (isRoot) mkdirSync(runDir, { recursive: true, mode: 0o755 });
  else await priv(['install', '-d', '-m', '0755', '-o', String(process.getuid!()), runDir]);
}

function isWritable(): boolean {
  try {
    const probe = join(runDir, `.probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}

export function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

/** Atomic write: a crash mid-write never leaves half a state file. */
export function writeState(s: State): void {
  const tmp = `${statePath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, statePath);
}

export function clearState(): void {
  rmSync(statePath, { force: true });
}
