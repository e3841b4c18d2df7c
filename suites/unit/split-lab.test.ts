/**
 * The seed's lab split across two hosts, read as the one lab it is (src/grader/split.ts): the
 * stretched model holds every host's namespaces and their bridge ports, the front host's side
 * stays the front's, and a Trial runs each command on the host that holds what it asks about.
 */
import { describe, expect, it } from 'vitest';
import { bridge, namespaces, seedLogin } from '../../src/grader/contract.ts';
import { type Lab, Trial } from '../../src/grader/checks/trial.ts';
import { appBridge, contractNs, hostPeer } from '../../src/grader/find.ts';
import type { HostModel, Link, Namespace } from '../../src/grader/model.ts';
import { bridgesOn, gatewayOn, type LabHost, type Split, stretched } from '../../src/grader/split.ts';

const [onA, onB] = [namespaces.slice(0, 4), namespaces.slice(4)];
const [redis, pg] = [contractNs('redis-cache'), contractNs('postgres-db')];

/** A host whose bridge `br` (address `gw`) holds the given namespaces' veths, as discover.ts reads it. */
function hostModel(list: readonly (typeof namespaces)[number][], gw: string, extra: Link[] = []): HostModel {
  const ns = (n: (typeof namespaces)[number]): Namespace => ({
    name: n.name,
    links: [{ name: `v-${n.name}`.slice(0, 15), kind: 'veth', up: true, operstate: 'UP', addresses: [{ ip: n.ip, prefix: 16 }], peer: { name: `p-${n.name}`.slice(0, 15) } }],
    routes: [{ dst: 'default', via: gw }],
    listeners: [],
    processes: [],
  });
  return {
    at: new Date().toISOString(),
    host: {
      links: [
        { name: bridge.name, kind: 'bridge', up: true, operstate: 'UP', addresses: [{ ip: gw, prefix: 16 }] },
        ...list.map(
          (n): Link => ({
            name: `p-${n.name}`.slice(0, 15),
            kind: 'veth',
            up: true,
            operstate: 'UP',
            master: bridge.name,
            addresses: [],
            peer: { namespace: n.name, name: `v-${n.name}`.slice(0, 15) },
          }),
        ),
        ...extra,
      ],
      routes: [],
      listeners: [],
    },
    namespaces: list.map(ns),
    sysctl: {},
    iptables: { backend: 'nft', save: '*nat\nCOMMIT\n' },
  };
}

/** Host B's bridge address in the course (any address of the seed's subnet no namespace has). */
const gatewayB = '10.0.0.2';
const a = hostModel(onA, bridge.ip);
const b = hostModel(onB, gatewayB);
const host = (name: string): LabHost => ({ name, argv: (argv) => ['echo', name, ...argv] });
const [ha, hb] = [host('host-a'), host('host-b')];
const split: Split = {
  hosts: [ha, hb],
  front: ha,
  of: new Map([...onA.map((n) => [n.name, ha] as const), ...onB.map((n) => [n.name, hb] as const)]),
  models: new Map([
    [ha, a],
    [hb, b],
  ]),
};

describe('the stretched lab', () => {
  const model = stretched(a, [b]);

  it("holds every host's namespaces, and host B's veth ends as ports of the one bridge", () => {
    expect(model.namespaces.map((n) => n.name)).toEqual(namespaces.map((n) => n.name));
    for (const n of namespaces) expect(hostPeer(model, n.name)?.master, n.name).toBe(bridge.name);
    expect(appBridge(model)?.ports.sort()).toEqual(namespaces.map((n) => `p-${n.name}`.slice(0, 15)).sort());
  });

  it("keeps the front host's side: its bridge address, its rules; a namespace on both hosts is the front's", () => {
    expect(appBridge(model)?.addresses).toEqual([{ ip: bridge.ip, prefix: 16 }]);
    expect(model.iptables).toBe(a.iptables);
    const twice = stretched(a, [hostModel([...onB, onA[0]!], gatewayB)]);
    expect(twice.namespaces.filter((n) => n.name === onA[0]!.name)).toEqual([a.namespaces[0]]);
  });

  it('each host has its own gateway and bridge: the seed’s on the front, its own on the other', () => {
    expect(gatewayOn(split, ha)).toBe(bridge.ip);
    expect(gatewayOn(split, hb)).toBe(gatewayB);
    expect(gatewayOn(undefined, undefined)).toBe(bridge.ip);
    expect(bridgesOn(split, hb)).toEqual([bridge.name]);
  });
});

describe('a Trial on a split lab', () => {
  const lab: Lab = {
    model: stretched(a, [b]),
    judgement: {} as Lab['judgement'],
    noVantage: 'none',
    pg: { host: pg.ip, port: pg.port, ...seedLogin },
    redis: { host: redis.ip, port: redis.port, user: 'default' },
    iptables: { save: 'iptables-save', list: 'iptables' },
    shared: new Map(),
    split,
  };

  it('runs a namespace’s command on its host, a host command on the front, a data client where its server is; each recorded as typed there, with the host', async () => {
    const t = new Trial(lab);
    const [inB, inA, front, pinged] = await Promise.all([t.inNs('redis-cache', 'true'), t.inNs('api-gateway', 'true'), t.sh('true'), t.redis('PING')]);
    expect([inB.host, inA.host, front.host, pinged.host]).toEqual(['host-b', 'host-a', 'host-a', 'host-b']);
    // The argv `echo` printed is what ran: the host's way in, then the command.
    expect(inB.stdout).toBe('host-b bash --norc --noprofile -c ip netns exec redis-cache true\n');
    expect(inB.command).toBe('ip netns exec redis-cache true');
    expect(pinged.stdout).toBe(`host-b env redis-cli -h ${redis.ip} -p ${redis.port} PING\n`);
    expect(t.hosts()).toEqual([ha, hb]);
  });
});
