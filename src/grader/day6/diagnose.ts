/**
 * Why a day-6 deliverable fails, from what both hosts have (discover.ts) held against the course's
 * literals (contract.ts): each classic fault of a two-host build, named with its fix.
 */
import { cidrHas } from '../../topology/ipv4.ts';
import { SUBNET } from '../diagnosis/common.ts';
import { namespaces as seed } from '../contract.ts';
import { gatewayOnA, linuxDefaultPort, mtu, split, vxlan } from './contract.ts';
import type { HostState, Vxlan } from './discover.ts';

export type Day6Id = '6-overlay' | '6-underlay' | '6-mtu' | '6-addresses' | '6-e2e' | '6-seed';

export interface Day6Fault {
  /** Stable kebab-case name of the cause (the day-6 mutants assert on it). */
  id: string;
  cause: string;
  /** What a learner would type. */
  fix: string;
  /** The deliverables it breaks. */
  breaks: Day6Id[];
  /** What the diagram marks red on a host's VXLAN for it, in a few words. */
  marks?: { host: string; text: string }[];
}

const traffic: Day6Id[] = ['6-overlay', '6-underlay', '6-mtu', '6-e2e', '6-seed'];

/** The host's day-6 VXLAN: the course's vxlan100, else the only one it has. */
export const vxlanOf = (h: HostState): Vxlan | undefined => h.vxlans.find((x) => x.name === vxlan.name) ?? (h.vxlans.length === 1 ? h.vxlans[0] : undefined);

const appAddresses = (h: HostState) => [
  ...h.rootAddresses.filter((x) => cidrHas(SUBNET, x.address)).map((x) => ({ where: `${h.name} ${x.ifname}`, address: x.address })),
  ...h.namespaces.flatMap((n) => n.links.flatMap((l) => l.addresses.filter((a) => cidrHas(SUBNET, a)).map((address) => ({ where: `${h.name} ${n.name}`, address })))),
];

const typed = (x: Vxlan, other: HostState, o: { vni?: number; port?: number } = {}) =>
  `ip link add ${vxlan.name} type vxlan id ${o.vni ?? vxlan.vni} remote ${other.underlay[0] ?? '<OTHER_HOST_IP>'} dstport ${o.port ?? vxlan.port} dev ${x.dev ?? vxlan.underlayDev}`;

export function diagnoseDay6(a: HostState, b: HostState): Day6Fault[] {
  const faults: Day6Fault[] = [];
  const pairs: [HostState, HostState][] = [
    [a, b],
    [b, a],
  ];
  const xa = vxlanOf(a);
  const xb = vxlanOf(b);
  for (const [h, other] of pairs) {
    const x = vxlanOf(h);
    if (!x) {
      faults.push({
        id: 'vxlan-missing',
        cause: `${h.name} has no ${vxlan.name} (VXLAN devices: ${h.vxlans.map((v) => v.name).join(', ') || 'none'})`,
        fix: `on ${h.name}: ${typed({ name: vxlan.name, mtu: 0, up: false }, other)}`,
        breaks: traffic,
        marks: [{ host: h.name, text: `no ${vxlan.name}` }],
      });
      continue;
    }
    if (!x.remote || !other.underlay.includes(x.remote)) {
      faults.push({
        id: 'vxlan-wrong-remote',
        cause: `${h.name}'s ${x.name} sends to ${x.remote ?? 'no remote'}, but ${other.name}'s ${x.dev ?? vxlan.underlayDev} is ${other.underlay.join(', ') || 'unaddressed'}`,
        fix: `on ${h.name}: ip link del ${x.name}; ${typed(x, other)}; ip link set ${x.name} master ${vxlan.bridge}; ip link set ${x.name} up`,
        breaks: traffic,
        marks: [{ host: h.name, text: x.remote ? `remote ${x.remote} is not ${other.name}` : 'no remote' }],
      });
    }
    if (x.master !== vxlan.bridge) {
      faults.push({
        id: 'vxlan-not-enslaved',
        cause: `${h.name}'s ${x.name} is ${x.master ? `a port of ${x.master}` : 'on no bridge'}, so ${vxlan.bridge}'s namespaces never reach it`,
        fix: `on ${h.name}: ip link set ${x.name} master ${vxlan.bridge}`,
        breaks: traffic,
        marks: [{ host: h.name, text: `not enslaved to ${vxlan.bridge}` }],
      });
    }
    if (!x.up) faults.push({ id: 'vxlan-down', cause: `${h.name}'s ${x.name} is down`, fix: `on ${h.name}: ip link set ${x.name} up`, breaks: traffic });
    if (h.udpDrops.length > 0) {
      faults.push({
        id: 'underlay-udp-dropped',
        cause: `${h.name}'s iptables drops the overlay's UDP ${x.port ?? vxlan.port} on the underlay: ${h.udpDrops.join('; ')}`,
        fix: `on ${h.name}: iptables ${h.udpDrops[0]!.replace(/^-A /, '-D ')}`,
        breaks: traffic,
      });
    }
  }
  if (xa && xb) {
    if (xa.vni !== xb.vni || xa.vni !== vxlan.vni) {
      const off = pairs.filter(([h]) => vxlanOf(h)!.vni !== vxlan.vni);
      faults.push({
        id: 'vxlan-vni-mismatch',
        cause: `VNI ${xa.vni} on ${a.name} and ${xb.vni} on ${b.name}: each host drops the other's frames (the course's VNI is ${vxlan.vni})`,
        fix: off.map(([h, other]) => `on ${h.name}: ip link del ${vxlanOf(h)!.name}; ${typed(vxlanOf(h)!, other)}`).join('; '),
        breaks: traffic,
        marks: off.map(([h]) => ({ host: h.name, text: `VNI ${vxlanOf(h)!.vni}, not ${vxlan.vni}` })),
      });
    }
    if (xa.port !== xb.port || xa.port !== vxlan.port) {
      const off = pairs.filter(([h]) => vxlanOf(h)!.port !== vxlan.port);
      const why = off.some(([h]) => vxlanOf(h)!.port === linuxDefaultPort) ? ` (${linuxDefaultPort} is Linux's own default, what a vxlan gets when \`dstport\` is left out)` : '';
      faults.push({
        id: 'vxlan-port-mismatch',
        cause: `UDP port ${xa.port} on ${a.name} and ${xb.port} on ${b.name}${why}: the course's is ${vxlan.port}`,
        fix: off.map(([h, other]) => `on ${h.name}: ip link del ${vxlanOf(h)!.name}; ${typed(vxlanOf(h)!, other)}`).join('; '),
        breaks: traffic,
        marks: off.map(([h]) => ({ host: h.name, text: `UDP ${vxlanOf(h)!.port ?? linuxDefaultPort}, not ${vxlan.port}` })),
      });
    }
  }
  // Room for the 50-byte header: what a namespace sends whole must fit the overlay.
  const room = Math.min(mtu.overlay, ...[xa, xb].flatMap((x) => (x ? [x.mtu] : [])));
  const wide = pairs.flatMap(([h]) =>
    h.namespaces.flatMap((n) => n.links.filter((l) => l.mtu > room && l.addresses.some((ad) => cidrHas(SUBNET, ad))).map((l) => `${h.name} ${n.name} ${l.ifname} (${l.mtu})`)),
  );
  if (wide.length > 0) {
    faults.push({
      id: 'overlay-mtu-too-big',
      cause: `the overlay carries at most ${room} bytes (underlay ${mtu.underlay} less the ${mtu.header}-byte VXLAN header) but ${wide.join(', ')} send${wide.length === 1 ? 's' : ''} more: full-size segments are dropped, and a large transfer stalls unless an ICMP "fragmentation needed" gets back`,
      fix: `in each namespace: ip link set <its veth> mtu ${mtu.overlay}`,
      breaks: ['6-mtu'],
    });
  }
  const onA = appAddresses(a);
  const onB = appAddresses(b);
  const both = [...new Set(onA.map((x) => x.address).filter((ad) => onB.some((y) => y.address === ad)))];
  if (both.length > 0) {
    const where = (ad: string) => [...onA, ...onB].filter((x) => x.address === ad).map((x) => x.where);
    faults.push({
      id: 'app-address-on-both-hosts',
      cause: `one segment, two owners: ${both.map((ad) => `${ad} (${where(ad).join(' and ')})`).join(', ')}; ARP answers from either host`,
      fix: `give ${b.name}'s copy an address of its own (on ${b.name}: ip addr del ${both[0]}/${SUBNET.split('/')[1]} dev ${vxlan.bridge}, then ip addr add one of ${SUBNET} that no other host or namespace has, and its namespaces' default route via it)`,
      breaks: ['6-addresses', '6-e2e', '6-seed'],
    });
  }
  if (!a.rootAddresses.some((x) => x.ifname === vxlan.bridge && x.address === gatewayOnA)) {
    faults.push({
      id: 'gateway-not-on-a',
      cause: `${a.name}'s ${vxlan.bridge} lacks the seed's gateway ${gatewayOnA}`,
      fix: `on ${a.name}: ip addr add ${gatewayOnA}/16 dev ${vxlan.bridge}`,
      breaks: ['6-addresses'],
    });
  }
  faults.push(...dataTierFaults(a, b));
  return faults;
}

const loopback = /^(127\.|\[::1\]|\[::ffff:127\.)/;
const fixOf: Record<string, (ip: string, port: number) => string> = {
  'redis-cache': (ip, port) => `start Redis in redis-cache with --bind ${ip} --port ${port}`,
  'postgres-db': (ip, port) => `start PostgreSQL in postgres-db with -c listen_addresses=${ip} -c port=${port}`,
};

/** Host B's data tier (the seed's Redis and PostgreSQL, at their ports), as host A's services need it: listening where the overlay reaches. */
function dataTierFaults(a: HostState, b: HostState): Day6Fault[] {
  return split.b.flatMap((name): Day6Fault[] => {
    const ns = b.namespaces.find((n) => n.name === name);
    const { port } = seed.find((n) => n.name === name)!;
    const ip = ns?.links.flatMap((l) => l.addresses).find((x) => cidrHas(SUBNET, x));
    if (!ns || !ip) return [];
    const on = ns.listening.filter((l) => l.endsWith(`:${port}`));
    const fix = `on ${b.name}: ${fixOf[name]!(ip, port)}`;
    if (on.length === 0) {
      return [{ id: 'data-not-listening', cause: `nothing listens on :${port} in ${b.name}'s ${name}, so ${a.name}'s services find no ${name} at ${ip}:${port}`, fix, breaks: ['6-e2e', '6-seed'] }];
    }
    if (on.every((l) => loopback.test(l))) {
      return [
        {
          id: 'data-loopback-only',
          cause: `${b.name}'s ${name} listens on ${on.join(', ')} only: ${a.name}'s services, across the overlay, cannot reach ${ip}:${port}`,
          fix,
          breaks: ['6-e2e', '6-seed'],
        },
      ];
    }
    return [];
  });
}
