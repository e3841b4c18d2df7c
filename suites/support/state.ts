import { topology } from '../../src/topology/default.ts';
import type { State } from '../../src/host/state.ts';
import { sysctlKeys } from '../../src/plan/plan.ts';
import { peerName } from '../../src/topology/validate.ts';

/**
 * A state of the default topology as the version before start times wrote it: every field but
 * those, each test naming only what it is about (`over`).
 */
export function oldState(over: Partial<State> = {}): State {
  const nodes = [...topology.app.nodes, ...topology.outside.nodes];
  const keys = sysctlKeys(topology);
  return {
    version: 1,
    tag: topology.tag,
    startedAt: '2025-01-01T00:00:00.000Z',
    phase: 'up',
    namespaces: nodes.map((n) => n.name),
    bridges: [topology.app.bridge.name, topology.outside.bridge.name],
    veths: nodes.map((n) => peerName(n.veth)),
    sysctls: [
      { key: keys.forward, value: '1', before: '0' },
      { key: keys.localnet, value: '1', before: null },
    ],
    services: [],
    containers: [],
    options: { data: 'native', networkOnly: false, guard: false },
    ...over,
  };
}
