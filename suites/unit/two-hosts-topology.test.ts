/**
 * The two-host topology (course day 6) as data: each host's half is planned with the course's
 * VXLAN, the declaration is checked as a whole, and it reads back from JSON as `--topology FILE`
 * takes it. What the plan must say comes from day 6's contract, not from the topology.
 */
import { describe, expect, it } from 'vitest';
import { gatewayOnA, mtu, split, vxlan } from '../../src/grader/day6/contract.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { nsFirewalls } from '../../src/plan/policy.ts';
import { nodeNamed } from '../../src/topology/default.ts';
import { hostView } from '../../src/topology/hosts.ts';
import { parseTopology } from '../../src/topology/parse.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import type { Topology } from '../../src/topology/types.ts';
import { type TopologyError, validate } from '../../src/topology/validate.ts';

const facts: HostFacts = { uplinkDev: 'eth0', dockerUser: false, sysctl: { 'net.ipv4.ip_forward': '0' }, routes: [] };
const [a, b] = twoHosts.hosts!.list;

describe("each host's half of the two-host topology", () => {
  it('runs the course split: the web tier on host A, the data tier on host B', () => {
    expect(hostView(twoHosts, 'host-a').app.nodes.map((n) => n.name)).toEqual([...split.a]);
    expect(hostView(twoHosts, 'host-b').app.nodes.map((n) => n.name)).toEqual([...split.b]);
  });

  it("is planned with the course's VXLAN to the other host, enslaved to br-app, and the overlay's MTU on every app veth", () => {
    for (const [self, other] of [
      [a!, b!],
      [b!, a!],
    ]) {
      const plan = buildPlan(hostView(twoHosts, self.name), facts, { guard: false, policy: 'deny' });
      expect(plan.hostBatch).toContain(`link add ${vxlan.name} type vxlan id ${vxlan.vni} remote ${other.underlay} local ${self.underlay} dstport ${vxlan.port} dev ${vxlan.underlayDev}`);
      expect(plan.hostBatch).toContain(`link set ${vxlan.name} master ${vxlan.bridge}`);
      expect(plan.bridges).toContain(vxlan.name);
      for (const n of self.nodes) expect(plan.nsBatches.find((x) => x.ns === n)?.lines).toContain(`link set ${nodeNamed(n).veth} mtu ${mtu.overlay}`);
      expect(plan.namespaces.filter((n) => nodeNamed(n, twoHosts).component !== 'client' && nodeNamed(n, twoHosts).component !== 'internet')).toEqual(self.nodes);
      // Its bridge's own address is each namespace's gateway.
      for (const n of self.nodes) expect(plan.nsBatches.find((x) => x.ns === n)?.lines).toContain(`route add default via ${self.bridge}`);
    }
  });

  it("port 8080 is forwarded only on the host that runs its target; the data tier's firewall lets in the web tier's flows across the overlay", () => {
    expect(hostView(twoHosts, 'host-a').portForwards).toHaveLength(1);
    expect(hostView(twoHosts, 'host-b').portForwards).toHaveLength(0);
    const redis = nsFirewalls(hostView(twoHosts, 'host-b'), 'deny').find((f) => f.ns === 'redis-cache')!;
    expect(redis.rules.some((r) => r.match.join(' ').includes(`-s ${nodeNamed('product-service').ip}`))).toBe(true);
  });

  it('a one-host topology has no halves, and an unknown host is named with the others', () => {
    expect(() => hostView({ ...twoHosts, hosts: undefined }, 'host-a')).toThrow(/one host/);
    expect(() => hostView(twoHosts, 'host-c')).toThrow(/host-a, host-b/);
  });
});

describe('the declaration is checked as a whole', () => {
  const bad = (change: (t: Topology) => void): string[] => {
    const t = structuredClone(twoHosts);
    change(t);
    try {
      validate(t);
      return [];
    } catch (e) {
      return (e as TopologyError).problems;
    }
  };

  it('accepts the two-host topology', () => {
    expect(bad(() => {})).toEqual([]);
  });

  it('names every problem: a node on no host, one on two, a third host, an underlay address off the LAN, a bridge address already a node', () => {
    expect(bad((t) => t.hosts!.list[1]!.nodes.pop())).toContain('app node postgres-db is on no host');
    expect(bad((t) => t.hosts!.list[0]!.nodes.push('redis-cache'))).toContain('app node redis-cache is on more than one host');
    expect(bad((t) => t.hosts!.list.push({ name: 'host-c', underlay: '198.51.100.3', bridge: '10.0.0.3', nodes: [] })).join('\n')).toMatch(/3 hosts/);
    expect(bad((t) => (t.hosts!.list[1]!.underlay = '203.0.113.5')).join('\n')).toMatch(/host host-b: 203.0.113.5 is not an address of the underlay/);
    expect(bad((t) => (t.hosts!.list[1]!.bridge = '10.0.0.50'))).toContain('duplicate IP address 10.0.0.50 on the overlay');
    expect(bad((t) => (t.hosts!.overlay.vni = 0)).join('\n')).toMatch(/vni 0 is not in 1\.\.16777215/);
  });

  it('reads back from JSON, as `up --topology FILE --host NAME` takes it, hosts and all', () => {
    expect(parseTopology(JSON.parse(JSON.stringify(twoHosts)))).toEqual(twoHosts);
    // A host's half is itself a topology the supervisor reads back from the run directory.
    const half = hostView(twoHosts, 'host-b');
    expect(parseTopology(JSON.parse(JSON.stringify(half)))).toEqual(half);
    expect(() => parseTopology({ ...JSON.parse(JSON.stringify(twoHosts)), hosts: { ...twoHosts.hosts, extra: 1 } })).toThrow(/hosts\.extra: no such field/);
  });
});

describe("the two-host topology keeps day 6's contract (as seed.test.ts holds the default topology to the seed's)", () => {
  it("names the course's VXLAN, underlay device and MTU, its split, and host A's gateway", () => {
    const h = twoHosts.hosts!;
    expect(h.overlay).toEqual({ name: vxlan.name, vni: vxlan.vni, port: vxlan.port });
    expect(h.underlay.dev).toBe(vxlan.underlayDev);
    expect(h.underlay.mtu).toBe(mtu.underlay);
    expect(h.underlay.mtu - mtu.header).toBe(mtu.overlay);
    expect(h.list.map((x) => x.nodes)).toEqual([[...split.a], [...split.b]]);
    expect(a!.bridge).toBe(gatewayOnA);
    expect(twoHosts.app.bridge.name).toBe(vxlan.bridge);
  });
});
