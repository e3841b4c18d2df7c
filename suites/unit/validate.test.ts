import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import type { Topology } from '../../src/topology/types.ts';
import { TopologyError, validate } from '../../src/topology/validate.ts';

function problems(t: Topology, routes: { dst: string; dev?: string }[] = []): string[] {
  try {
    validate(t, routes);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(TopologyError);
    return (e as TopologyError).problems;
  }
}

function edit(fn: (t: Topology) => void): Topology {
  const t = structuredClone(topology);
  fn(t);
  return t;
}

describe('topology validation (no root needed)', () => {
  it('accepts the seed topology', () => {
    expect(
      problems(topology, [
        { dst: 'default', dev: 'eth0' },
        { dst: '192.0.2.0/24', dev: 'eth0' },
      ]),
    ).toEqual([]);
  });

  it('rejects an interface name longer than 15 characters, naming it', () => {
    const p = problems(edit((t) => (t.app.nodes[5]!.veth = 'veth-postgres-db')));
    expect(p).toEqual(expect.arrayContaining([expect.stringMatching(/"veth-postgres-db" is 16 characters; Linux allows at most 15/)]));
    expect(p.some((x) => x.includes('veth-postgres-db-br'))).toBe(true);
  });

  it('rejects an IP outside the subnet', () => {
    const p = problems(edit((t) => (t.app.nodes[0]!.ip = '10.1.0.10')));
    expect(p).toEqual([expect.stringContaining('nginx-lb: 10.1.0.10 is outside the subnet 10.0.0.0/16')]);
  });

  it('rejects a malformed address and the network address', () => {
    expect(problems(edit((t) => (t.app.nodes[0]!.ip = '10.0.0.300')))).toEqual([expect.stringContaining('is not an IPv4 address')]);
    expect(problems(edit((t) => (t.app.nodes[0]!.ip = '10.0.0.0')))).toEqual([expect.stringContaining('network or broadcast')]);
  });

  it('rejects duplicates: namespace, interface and IP', () => {
    const p = problems(
      edit((t) => {
        t.app.nodes[1]!.name = t.app.nodes[0]!.name;
        t.app.nodes[2]!.veth = t.app.nodes[3]!.veth;
        t.app.nodes[4]!.ip = t.app.nodes[5]!.ip;
      }),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`duplicate namespace name "${topology.app.nodes[0]!.name}"`),
        expect.stringContaining(`duplicate interface name "${topology.app.nodes[3]!.veth}"`),
        expect.stringContaining(`duplicate IP address ${topology.app.nodes[5]!.ip}`),
      ]),
    );
  });

  it('rejects a subnet that overlaps a route the host already has', () => {
    const p = problems(topology, [{ dst: '10.0.5.0/24', dev: 'docker7' }]);
    expect(p).toEqual([expect.stringContaining(`subnet ${topology.app.subnet} overlaps the host route 10.0.5.0/24 on docker7`)]);
    expect(problems(topology, [{ dst: '10.0.0.0/8', dev: 'wg0' }])).toHaveLength(1);
    expect(problems(topology, [{ dst: '10.1.0.0/16', dev: 'wg0' }])).toEqual([]);
  });

  it('rejects a port forward to an unknown node and a bad port', () => {
    const p = problems(edit((t) => (t.portForwards = [{ hostPort: 70000, node: 'nope', port: 80 }])));
    expect(p).toEqual(expect.arrayContaining([expect.stringContaining('unknown node "nope"'), expect.stringContaining('70000 is not in 1..65535')]));
  });

  it('reports every problem at once', () => {
    const p = problems(
      edit((t) => {
        t.app.bridge.name = 'a-very-long-bridge';
        t.outside.subnet = '10.0.0.0/24';
      }),
    );
    expect(p.length).toBeGreaterThanOrEqual(3);
  });
});
