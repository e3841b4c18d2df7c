/**
 * What the topology declares, named as the observer names its pairs (destination after DNAT):
 * the request path, which the page draws even while idle, and what else the policy of
 * src/plan/policy.ts lets through, so that traffic there is not taken for news.
 */
import { publishedFlows } from '../plan/policy.ts';
import { containerName } from '../runtime/engine.ts';
import type { Topology } from '../topology/types.ts';
import type { Declared, DeclaredPair } from './types.ts';

export function declaredOf(t: Topology): Declared {
  const client = t.outside.nodes.find((n) => n.component === 'client');
  const portOf = (name: string) => [...t.app.nodes, ...t.outside.nodes].find((n) => n.name === name)?.port;
  const forwards = t.portForwards.map((pf) => ({ pf, why: `host port ${pf.hostPort}, DNATed to ${pf.node}:${pf.port}` }));
  const flows: DeclaredPair[] = [
    ...(client ? forwards.map(({ pf, why }) => ({ from: client.name, to: pf.node, proto: 'tcp' as const, port: pf.port, why })) : []),
    ...(t.flows ?? []).map((f) => ({ from: f.from, to: f.to, proto: 'tcp' as const, port: f.port ?? portOf(f.to), why: f.why })),
  ];
  if (!t.flows) return { flows, allowed: [{ from: '*', to: '*', why: 'no policy declared: the flat network' }] };
  const internet = t.outside.nodes.find((n) => n.component === 'internet');
  const allowed: DeclaredPair[] = [
    { from: '*', to: '*', proto: 'icmp', why: "ICMP between all namespaces (the seed's ping tests)" },
    ...forwards.map(({ pf, why }) => ({ from: '*', to: pf.node, proto: 'tcp' as const, port: pf.port, why: `the port forward's target, public (${why})` })),
    ...t.app.nodes.flatMap((n) => (n.port === undefined ? [] : [{ from: 'host', to: n.name, proto: 'tcp' as const, port: n.port, why: `the host reaches ${n.name}'s service and no other port` }])),
    // Containers mode: a flow to a data server goes to its port published on the bridge address, which Docker sends on to the container.
    ...publishedFlows(t).flatMap(({ c, port, from }) =>
      from.flatMap((f) => ['host', `container:${containerName(t.tag, c)}`].map((to) => ({ from: f.name, to, proto: 'tcp' as const, port, why: `${f.name} to ${c}, published on the bridge address` }))),
    ),
    ...(internet ? [{ from: '*', to: internet.name, proto: 'tcp' as const, port: internet.port, why: 'internet access through the egress NAT (the simulated internet host)' }] : []),
  ];
  return { flows, allowed };
}
