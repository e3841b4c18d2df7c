import { renameSync, rmSync } from 'node:fs';
import { basename, isAbsolute, normalize } from 'node:path';
import { sysctlKeys, type Sysctl } from '../plan/plan.ts';
import type { DataMode, Policy, Topology } from '../topology/types.ts';
import { isTag, peerName } from '../topology/validate.ts';
import { accountNames } from './accounts.ts';
import { writeNewFile } from './files.ts';
import type { RunDir } from './run-dir.ts';
import { readJson } from '../util/read-json.ts';

export interface ServiceRecord {
  name: string;
  ns: string;
  pid: number;
  /** Field 22 of /proc/PID/stat when it started: only that process is ever signalled, not a later one with its pid. Absent in states of earlier versions. */
  startTime?: number;
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
  /** Unix accounts we created (services', nginx's), each recorded before useradd; absent in states of earlier versions. */
  accounts?: string[];
  /** The process that restarts crashed services (src/runtime/supervisor.ts); stopped by `down` before them. */
  supervisor?: { pid: number; startTime: number };
  /** Where the platform's data is kept across runs (DataDir.root): `down --volumes` removes it. Absent in states of earlier versions. */
  dataDir?: string;
  options: StateOptions;
}

/** How the platform was asked for, and the real uplink its test guard closes. */
export interface StateOptions {
  data: DataMode;
  networkOnly: boolean;
  guard: boolean;
  /** East-west policy; absent in states of earlier versions, which had none (open). */
  policy?: Policy;
  uplinkDev?: string;
}

export const readState = (d: RunDir): State | undefined => readJson<State>(d.state);

/** The state of a platform about to be applied: nothing recorded yet. */
export function newState(tag: string, options: StateOptions, dataDir?: string): State {
  return { version: 1, tag, startedAt: new Date().toISOString(), phase: 'applying', namespaces: [], bridges: [], sysctls: [], services: [], containers: [], options, ...(dataDir ? { dataDir } : {}) };
}

/** A state file that topology's platform did not write (tampered, or another topology's): each problem names its field. */
export class StateError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the state file is not ours (tampered, or written for another topology):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => JSON.stringify(v) ?? String(v);
const bit = (v: unknown): boolean => v === '0' || v === '1';

/**
 * The state as read, checked before root acts on it (`down` deletes what it names, writes its
 * sysctls, signals its pids): every name one topology `t` declares, its tag, only the sysctls
 * we change with 0/1 values, pids above 1 (services' and the supervisor's), Docker ids, a data
 * directory named after the tag. Fields a version before them did not write (veths, accounts, a
 * service's startTime, uplinkDev, dataDir) may be absent. Undefined stays undefined (no
 * file, or a torn write).
 */
export function validateState(raw: unknown, t: Topology): State | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw new StateError(['it is not a JSON object']);
  const problems: string[] = [];
  const nodes = [...t.app.nodes, ...t.outside.nodes];
  const list = (field: string, ok: (v: unknown) => boolean, what: string, optional = false) => {
    const v = raw[field];
    if (v === undefined && optional) return;
    if (!Array.isArray(v)) problems.push(`${field}: ${shown(v)} is not a list`);
    else for (const x of v) if (!ok(x)) problems.push(`${field}: ${shown(x)} is not ${what}`);
  };
  const among = (names: string[]) => (v: unknown) => names.includes(v as string);
  const declared = `declared by topology ${t.tag}`;
  if (raw.version !== 1) problems.push(`version: ${shown(raw.version)} is not 1`);
  if (typeof raw.tag !== 'string' || !isTag(raw.tag)) problems.push(`tag: ${shown(raw.tag)} is not a tag (lowercase letters, digits and '-', with "ecomnet")`);
  else if (raw.tag !== t.tag) problems.push(`tag: "${raw.tag}" is not the topology's tag "${t.tag}"`);
  if (typeof raw.startedAt !== 'string') problems.push(`startedAt: ${shown(raw.startedAt)} is not a time`);
  if (!['applying', 'up', 'down'].includes(raw.phase as string)) problems.push(`phase: ${shown(raw.phase)} is not applying, up or down`);
  list('namespaces', among(nodes.map((n) => n.name)), `a namespace ${declared}`);
  list('bridges', among([t.app.bridge.name, t.outside.bridge.name, ...(t.hosts && t.here ? [t.hosts.overlay.name] : [])]), `a bridge ${declared}`);
  list('veths', among(nodes.map((n) => peerName(n.veth))), `a veth ${declared}`, true);
  const keys = Object.values(sysctlKeys(t));
  list('sysctls', (s) => isObject(s) && keys.includes(s.key as string) && bit(s.value) && (s.before === null || bit(s.before)), `one of ${keys.join(', ')} with value and before 0 or 1`);
  const service = (s: unknown) => {
    if (!isObject(s)) return false;
    const node = nodes.find((n) => n.component !== undefined && n.component === s.name);
    const pidOk = Number.isInteger(s.pid) && (s.pid as number) > 1;
    const startOk = s.startTime === undefined || (Number.isInteger(s.startTime) && (s.startTime as number) >= 0);
    return node !== undefined && s.ns === node.name && pidOk && startOk && typeof s.log === 'string';
  };
  list('services', service, `a service the topology runs, in its namespace, with a pid above 1`);
  list('accounts', among(accountNames(t)), `an account of topology ${t.tag} (${accountNames(t).join(', ')})`, true);
  const sup = raw.supervisor;
  if (sup !== undefined && !(isObject(sup) && Number.isInteger(sup.pid) && (sup.pid as number) > 1 && Number.isInteger(sup.startTime) && (sup.startTime as number) >= 0))
    problems.push(`supervisor: ${shown(sup)} is not { pid above 1, startTime }`);
  list('containers', (id) => typeof id === 'string' && /^[0-9a-f]{12,64}$/.test(id), 'a Docker container id (12 to 64 hex digits)');
  // `down --volumes` deletes it: only a directory named after this topology's tag, by an absolute, plain path.
  const d = raw.dataDir;
  if (d !== undefined && !(typeof d === 'string' && isAbsolute(d) && normalize(d) === d && basename(d) === t.tag))
    problems.push(`dataDir: ${shown(d)} is not an absolute path ending in the topology's tag "${t.tag}"`);
  const o = raw.options;
  const optionsOk =
    isObject(o) &&
    ['native', 'containers'].includes(o.data as string) &&
    typeof o.networkOnly === 'boolean' &&
    typeof o.guard === 'boolean' &&
    [undefined, 'deny', 'open'].includes(o.policy as string) &&
    ['string', 'undefined'].includes(typeof o.uplinkDev);
  if (!optionsOk) problems.push(`options: ${shown(o)} is not { data: native|containers, networkOnly, guard, policy?: deny|open, uplinkDev? }`);
  if (problems.length) throw new StateError(problems);
  return raw as unknown as State;
}

/** Atomic write: a crash mid-write never leaves half a state file. */
export function writeState(d: RunDir, s: State): void {
  const tmp = `${d.state}.${process.pid}.tmp`;
  writeNewFile(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, d.state);
}

export function clearState(d: RunDir): void {
  rmSync(d.state, { force: true });
}
