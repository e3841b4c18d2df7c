import { topology } from '../fixtures/topology.ts';
import type { Backend } from '../src/host/iptables.ts';
import { diffSnapshots, snapshotHost, type HostSnapshot } from '../src/host/snapshot.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import type { Topology } from '../src/topology/types.ts';
import { peerName } from '../src/topology/validate.ts';
import { LARGEST, syntheticTopology } from './synthetic.ts';

/**
 * Did the bench leave the host as it found it? Compared with a snapshot taken before it started,
 * so changes other tenants of the host make (Docker's rules, say) are not blamed on us.
 */

const forwardKey = sysctlKeys(topology).forward;

function ourNames(t: Topology): string[] {
  const nodes = [...t.app.nodes, ...t.outside.nodes];
  return [...nodes.map((n) => n.name), ...nodes.map((n) => peerName(n.veth)), t.app.bridge.name, t.outside.bridge.name];
}

export const hostSnapshot = (backend: Backend) => snapshotHost(backend, [forwardKey]);

export async function leftovers(before: HostSnapshot, backend: Backend): Promise<string[]> {
  const names = new Set([...ourNames(topology), ...ourNames(syntheticTopology(LARGEST))]);
  const ours = (line: string) => line.includes('ecomnet') || line.startsWith('sysctl') || [...names].some((n) => line.split(/[\s:]+/).includes(n));
  return diffSnapshots(before, await hostSnapshot(backend)).filter(ours);
}
