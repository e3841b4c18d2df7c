import { readFileSync } from 'node:fs';
import { type UplinkRoute, uplinkOf } from '../net/uplink.ts';
import type { HostFacts } from '../plan/facts.ts';
import { sysctlKeys } from '../plan/plan.ts';
import type { HostRoute, Topology } from '../topology/types.ts';
import { run } from './exec.ts';
import { chainExists, type Backend } from './iptables.ts';

export function readSysctl(key: string): string | null {
  try {
    return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The main table's routes as `ip -j route` gives them (metric too, which the uplink finder weighs). */
async function ipRoutes(): Promise<UplinkRoute[]> {
  const r = await run(['ip', '-j', 'route', 'show'], { allowFail: true });
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as UplinkRoute[]) : [];
}

export async function hostRoutes(): Promise<HostRoute[]> {
  return (await ipRoutes()).map(({ dst, dev }) => ({ dst, dev }));
}

/** Read-only look at the host; our own links are left out so a running platform doesn't overlap itself. */
export async function gatherFacts(t: Topology, backend?: Backend): Promise<HostFacts> {
  const ours = new Set([t.app.bridge.name, t.outside.bridge.name]);
  const read = await ipRoutes();
  const keys = sysctlKeys(t);
  return {
    uplinkDev: uplinkOf(read, ours),
    dockerUser: backend ? await chainExists(backend, 'filter', 'DOCKER-USER') : false,
    sysctl: { [keys.forward]: readSysctl(keys.forward) },
    routes: read.filter((r) => !r.dev || !ours.has(r.dev)).map(({ dst, dev }) => ({ dst, dev })),
  };
}
