import { readFileSync } from 'node:fs';
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

export async function hostRoutes(): Promise<HostRoute[]> {
  const r = await run(['ip', '-j', 'route', 'show'], { allowFail: true });
  if (r.exitCode !== 0) return [];
  return (JSON.parse(r.stdout) as { dst: string; dev?: string }[]).map(({ dst, dev }) => ({ dst, dev }));
}

/** Read-only look at the host; our own links are left out so a running platform doesn't overlap itself. */
export async function gatherFacts(t: Topology, backend?: Backend): Promise<HostFacts> {
  const ours = new Set([t.app.bridge.name, t.outside.bridge.name]);
  const routes = (await hostRoutes()).filter((r) => !r.dev || !ours.has(r.dev));
  const keys = sysctlKeys(t);
  return {
    uplinkDev: routes.find((r) => r.dst === 'default')?.dev,
    dockerUser: backend ? await chainExists(backend, 'filter', 'DOCKER-USER') : false,
    sysctl: { [keys.forward]: readSysctl(keys.forward) },
    routes,
  };
}
