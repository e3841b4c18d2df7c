/**
 * Issue 23: the observer on a host of a two-host build. Its VXLAN on the lab's bridge and the
 * rates of it and its underlay, the lab's namespaces across it named by the seed's addresses, and
 * how the terminal and the page's shared rules show a synthetic two-host snapshot; a one-host
 * snapshot shows none of it.
 */
import { describe, expect, it } from 'vitest';
import { parseConntrack } from '../../src/observe/conntrack.ts';
import { parseVxlans } from '../../src/net/vxlan.ts';
import { overlayOf, remoteCandidates } from '../../src/observe/overlay.ts';
import { healthState, otherHosts } from '../../src/observe/page/arcs.js';
import { snapshotText } from '../../src/observe/text.ts';
import { Accountant, Directory } from '../../src/observe/traffic.ts';
import { hostA, health, pair, rates, twoHostSnapshot } from '../support/observe-two-hosts.ts';

/** `ip -j -d link show type vxlan` on host A of the two-host platform (trimmed to what is read). */
const IP_VXLAN = JSON.stringify([
  {
    ifindex: 7,
    link: 'eth0',
    ifname: 'vxlan100',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1450,
    master: 'br-app',
    linkinfo: { info_kind: 'vxlan', info_data: { id: 100, remote: '198.51.100.2', link: 'eth0', port: 4789, ttl: 0 }, info_slave_kind: 'bridge' },
  },
  { ifindex: 9, ifname: 'vx-other', flags: ['UP'], mtu: 1450, master: 'br-elsewhere', linkinfo: { info_kind: 'vxlan', info_data: { id: 7, port: 8472 } } },
]);

const local = hostA;

describe('the overlay of a two-host build, read live', () => {
  const vxlans = parseVxlans(IP_VXLAN);
  const overlay = overlayOf(
    vxlans,
    new Set(['br-app']),
    new Map([
      ['vxlan100', rates(1000)],
      ['eth0', rates(1500)],
    ]),
  );

  it("parses ip's VXLAN devices; only one on the lab's bridge is the overlay, with its and its underlay's rates", () => {
    expect(vxlans).toEqual([
      { name: 'vxlan100', mtu: 1450, up: true, vni: 100, port: 4789, remote: '198.51.100.2', dev: 'eth0', master: 'br-app' },
      { name: 'vx-other', mtu: 1450, up: true, vni: 7, port: 8472, master: 'br-elsewhere' },
    ]);
    expect(parseVxlans('not json')).toEqual([]);
    expect(overlay).toEqual([{ name: 'vxlan100', vni: 100, port: 4789, remote: '198.51.100.2', dev: 'eth0', bridge: 'br-app', rate: rates(1000), underlay: { name: 'eth0', rate: rates(1500) } }]);
    expect(overlayOf(vxlans, new Set(['br-app-elsewhere']), new Map())).toEqual([]);
  });

  it("names the seed's namespaces not on this host across it, and counts a connection to one as its pair", () => {
    const remote = remoteCandidates(overlay, local);
    expect(remote.map((e) => [e.id, e.ips[0], e.kind, e.across])).toEqual([
      ['redis-cache', '10.0.0.50', 'remote', 'vxlan100'],
      ['postgres-db', '10.0.0.60', 'remote', 'vxlan100'],
    ]);
    expect(remoteCandidates([], local), 'no overlay, no remote namespaces').toEqual([]);
    const entry = (n: number) =>
      `ipv4 2 tcp 6 117 ESTABLISHED src=10.0.0.30 dst=10.0.0.50 sport=41000 dport=6379 packets=${n} bytes=${n * 100} src=10.0.0.50 dst=10.0.0.30 sport=6379 dport=41000 packets=${n} bytes=${n * 200} [ASSURED] mark=0 zone=0 use=2`;
    const accountant = new Accountant();
    const dir = new Directory([...local, ...remote]);
    accountant.account([{ ns: 'product-service', entries: parseConntrack(entry(1)) }], dir, 1);
    const { pairs } = accountant.account([{ ns: 'product-service', entries: parseConntrack(entry(5)) }], dir, 1);
    expect(pairs).toMatchObject([{ from: 'product-service', to: 'redis-cache', proto: 'tcp', port: 6379, packetsOut: 4, bytesIn: 800 }]);
  });
});

describe('a two-host sample shown', () => {
  it('the other host as a box of its namespaces, the overlay edge labelled with its VXLAN, the pairs crossing it', () => {
    const [box, ...more] = otherHosts(twoHostSnapshot());
    expect(more).toEqual([]);
    expect(box!.title).toBe('the other host (remote 198.51.100.2)');
    expect(box!.label).toBe('vxlan100 · VNI 100 · UDP 4789');
    expect(box!.remote).toEqual(['redis-cache', 'postgres-db']);
    expect(box!.crossing.map((e) => `${e.from}>${e.to}`)).toEqual(['product-service>redis-cache', 'order-service>postgres-db']);
  });

  it('the terminal: an overlay line with its and its underlay rates; a remote service that does not answer is not claimed down', () => {
    const text = snapshotText(twoHostSnapshot());
    const line = text.split('\n').find((l) => l.startsWith('overlay: '));
    expect(line).toBe(
      'overlay: vxlan100 · VNI 100 · UDP 4789 on br-app to the other host (remote 198.51.100.2): rx 3.0 KiB/s 30.7 pkt/s, tx 6.0 KiB/s 61.4 pkt/s · underlay eth0: rx 4.0 KiB/s 41.0 pkt/s, tx 8.0 KiB/s 81.9 pkt/s · across it: redis-cache, postgres-db (health not probed there: only whether this host reaches it)',
    );
    const pg = text.split('\n').find((l) => l.startsWith('postgres-db '));
    expect(pg).toContain('not reached across vxlan100');
    expect(pg).not.toContain('DOWN');
    expect(healthState(health('order-service', false))).toBe('down');
  });

  it('a one-host sample: no overlay line, no other host', () => {
    const one = { ...twoHostSnapshot(), endpoints: local, overlay: undefined, pairs: [pair('api-gateway', 'product-service', 5000, 1024)] };
    expect(otherHosts(one)).toEqual([]);
    expect(snapshotText(one)).not.toMatch(/overlay|other host/);
  });
});
