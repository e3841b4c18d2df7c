import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Sysctl } from '../plan/plan.ts';
import type { DataMode } from '../topology/types.ts';
import type { RunDir } from './run-dir.ts';
import { readJson } from '../read-json.ts';

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
  services: ServiceRecord[];
  /** Docker containers we started (containers mode), by id. */
  containers: string[];
  options: StateOptions;
}

/** How the platform was asked for, and the real uplink its test guard closes. */
export interface StateOptions {
  data: DataMode;
  networkOnly: boolean;
  guard: boolean;
  uplinkDev?: string;
}

export const readState = (d: RunDir): State | undefined => readJson<State>(d.state);

/** Atomic write: a crash mid-write never leaves half a state file. */
export function writeState(d: RunDir, s: State): void {
  const tmp = `${d.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, d.state);
}

export function clearState(d: RunDir): void {
  rmSync(d.state, { force: true });
}
