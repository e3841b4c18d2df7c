import { describe, expect, it } from 'vitest';
import { hostPort, nodeOf, topology } from '../../src/topology/default.ts';
import { prefixOf } from '../../src/topology/ipv4.ts';
import { peerName } from '../../src/topology/validate.ts';
import { bridge, namespaces, nginxVeth, rules } from '../../src/grader/contract.ts';

/**
 * The platform suites send traffic where src/topology/default.ts says and judge it by the seed's
 * literals (suites/support/seed.ts); this is where the two must agree.
 */
describe('the topology declares what the seed asks for', () => {
  it("the seed's six namespaces, with its addresses, ports and protocols, in its order", () => {
    // The data services speak their own protocols; every other service of the seed answers HTTP.
    const protocolOf = (component: string | undefined) => (component === 'redis' || component === 'postgres' ? component : 'http');
    expect(topology.app.nodes.map(({ name, ip, port, component }) => ({ name, ip, port, protocol: protocolOf(component) }))).toEqual(namespaces);
  });

  it(`${bridge.name} ${bridge.ip}/${bridge.prefix} over ${rules.masquerade.source}, and nginx-lb's veth pair as the seed names it`, () => {
    expect(topology.app.bridge).toEqual({ name: bridge.name, ip: bridge.ip });
    expect(topology.app.subnet).toBe(rules.masquerade.source);
    expect(prefixOf(topology.app.subnet)).toBe(bridge.prefix);
    const lb = nodeOf('nginx');
    expect([lb.name, lb.veth, peerName(lb.veth)]).toEqual([namespaces[0].name, nginxVeth.inside, nginxVeth.onBridge]);
  });

  it(`host port ${rules.dnat.dport} forwards to ${rules.dnat.to}`, () => {
    const lb = nodeOf('nginx');
    expect(hostPort()).toBe(rules.dnat.dport);
    expect(`${lb.ip}:${topology.portForwards[0]!.port}`).toBe(rules.dnat.to);
  });
});
