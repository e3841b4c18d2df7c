import { nodeOf, topology } from '../../fixtures/topology.ts';
import { formatIp, parseCidr } from '../topology/ipv4.ts';
import type { Topology } from '../topology/types.ts';
import { decide, explain, optionOf, type Decision, type Packet, type Ruleset } from './netfilter.ts';
import { bridge, namespaces, rules } from './contract.ts';
import { appBridge } from './find.ts';
import type { HostModel } from './model.ts';

/**
 * The seed's three iptables rules (tasks 1.3 and 1.4) as what they must do to packets, so a
 * live rule set is judged by its effect whatever its spelling, order, tags or chains.
 */

/** Where the outside is, in the live setup: addressing only, the expectations are the seed's. */
export interface Outside {
  /** Interfaces that lead away from br-app: our simulated uplink first, then the host's real one if any. */
  ifaces: string[];
  /** The host's address there, which the external client connects to. */
  hostAddress: string;
  client: string;
  internet: string;
  /** The port the internet host answers on: where a namespace's outgoing probe goes. */
  internetPort: number;
  /** The lab's bridge as built (the seed's br-app, or what a learner named it). */
  bridge: string;
  /** Bridged frames pass iptables (br_netfilter's bridge-nf-call-iptables is 1), so FORWARD sees hops across the bridge. */
  bridgedHopsFiltered: boolean;
}

/** The topology's outside world: its uplink bridge first, then the host's real uplink (`uplinkDev`) if there is one. */
export function outsideOf(uplinkDev: string | undefined, t: Topology = topology, lab: { bridge: string; bridgedHopsFiltered: boolean } = { bridge: bridge.name, bridgedHopsFiltered: true }): Outside {
  const internet = nodeOf('internet', t);
  if (internet.port === undefined) throw new Error(`topology ${t.tag}: the internet host declares no port`);
  return {
    ifaces: [t.outside.bridge.name, ...(uplinkDev ? [uplinkDev] : [])],
    hostAddress: t.outside.bridge.ip,
    client: nodeOf('client', t).ip,
    internet: internet.ip,
    internetPort: internet.port,
    ...lab,
  };
}

/** The outside as the live host has it: the lab's bridge as built, the host's real uplink (its default route, never that bridge). */
export function outsideOfHost(model: HostModel, t: Topology = topology): Outside {
  const br = appBridge(model)?.name ?? bridge.name;
  const uplinkDev = model.host.routes.find((r) => r.dst === 'default' && r.dev !== br)?.dev;
  return outsideOf(uplinkDev, t, { bridge: br, bridgedHopsFiltered: model.sysctl['net.bridge.bridge-nf-call-iptables'] === '1' });
}

export interface Probe {
  what: string;
  table: string;
  chain: string;
  packet: Packet;
  wanted: string;
  holds: (d: Decision) => boolean;
}

const [first, second, third] = namespaces;
const subnet = parseCidr(rules.masquerade.source)!;
/** The subnet's last host address: the rule covers all of 10.0.0.0/16, not only the six in use. */
const lastHost = formatIp(subnet.base + 2 ** (32 - subnet.prefix) - 2);
const isMasquerade = (d: Decision) => d.target === 'MASQUERADE';
/** Proven not to get `target`: an undecidable walk proves nothing. */
const not = (target: string) => (d: Decision) => d.target !== target && d.target !== 'UNKNOWN';
/** Let through, by a rule or by the chain's policy: a host without Docker forwards by policy ACCEPT. */
const accepted = (d: Decision) => d.target === 'ACCEPT';

/** `-s 10.0.0.0/16 ! -o br-app -j MASQUERADE`: every namespace is rewritten leaving by any other interface, and only then. */
export function masqueradeProbes(o: Outside): Probe[] {
  const { table, chain } = rules.masquerade;
  const out = (src: string, dst: string, iface: string): Packet => ({ src, dst, out: iface, proto: 'tcp', dport: o.internetPort, ctstate: ['NEW'] });
  const sources = [...namespaces.map((n) => ({ name: n.name, ip: n.ip })), { name: `${rules.masquerade.source}'s last address`, ip: lastHost }];
  return [
    ...sources.flatMap((n) =>
      o.ifaces.map((iface) => ({ what: `${n.name} ${n.ip} -> ${o.internet} out ${iface}`, table, chain, packet: out(n.ip, o.internet, iface), wanted: 'MASQUERADE', holds: isMasquerade })),
    ),
    { what: `${first.ip} -> ${second.ip} out ${o.bridge}`, table, chain, packet: out(first.ip, second.ip, o.bridge), wanted: 'left unchanged', holds: not('MASQUERADE') },
    {
      what: `${o.client} (not ${rules.masquerade.source}) -> ${o.internet} out ${o.ifaces[0]}`,
      table,
      chain,
      packet: out(o.client, o.internet, o.ifaces[0]!),
      wanted: 'left unchanged',
      holds: not('MASQUERADE'),
    },
  ];
}

/** `-p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80`: tcp 8080 to the host goes to nginx-lb, nothing else does. */
export function dnatProbes(o: Outside): Probe[] {
  const { table, chain, proto, dport, to } = rules.dnat;
  const toHost = (proto: Packet['proto'], port: number): Packet => ({ in: o.ifaces[0], src: o.client, dst: o.hostAddress, proto, dport: port, ctstate: ['NEW'], dstType: 'LOCAL' });
  const isDnat = (d: Decision) => d.target === 'DNAT' && optionOf(d.rule, '--to-destination') === to;
  return [
    { what: `tcp ${o.client} -> ${o.hostAddress}:${dport}`, table, chain, packet: toHost(proto, dport), wanted: `DNAT to ${to}`, holds: isDnat },
    { what: `tcp ${o.client} -> ${o.hostAddress}:${dport + 1}`, table, chain, packet: toHost(proto, dport + 1), wanted: 'not DNATed', holds: not('DNAT') },
    { what: `udp ${o.client} -> ${o.hostAddress}:${dport}`, table, chain, packet: toHost('udp', dport), wanted: 'not DNATed', holds: not('DNAT') },
  ];
}

/**
 * `-A FORWARD -p tcp -d 10.0.0.10 --dport 80 -j ACCEPT`, and the bridge's own traffic: each is
 * let through FORWARD (by a rule reached from it, directly or through DOCKER-USER and the like,
 * or by its policy). Hops across the bridge count only where bridged frames pass iptables.
 */
export function forwardProbes(o: Outside): Probe[] {
  const { table, chain, proto, destination, dport } = rules.forward;
  const probe = (what: string, packet: Packet): Probe => ({ what, table, chain, packet, wanted: 'ACCEPT', holds: accepted });
  const up = o.ifaces[0]!;
  return [
    probe(`DNATed ${o.client} -> ${destination}:${dport}`, { in: up, out: o.bridge, src: o.client, dst: destination, proto, dport, ctstate: ['NEW', 'DNAT'] }),
    probe(`${destination} replies to ${o.client}`, { in: o.bridge, out: up, src: destination, dst: o.client, proto: 'tcp', ctstate: ['ESTABLISHED'] }),
    ...(o.bridgedHopsFiltered
      ? [probe(`${second.name} -> ${third.name} across ${o.bridge}`, { in: o.bridge, out: o.bridge, src: second.ip, dst: third.ip, proto: 'tcp', dport: third.port, ctstate: ['NEW'] })]
      : []),
    probe(`${third.name} -> ${o.internet} out ${up}`, { in: o.bridge, out: up, src: third.ip, dst: o.internet, proto: 'tcp', dport: o.internetPort, ctstate: ['NEW'] }),
    probe(`${o.internet} replies to ${third.name}`, { in: up, out: o.bridge, src: o.internet, dst: third.ip, proto: 'tcp', ctstate: ['ESTABLISHED'] }),
  ];
}

/** The probes the rule set fails, each with what it wanted and what happened instead; [] when all hold. */
export function failures(rs: Ruleset, probes: Probe[]): string[] {
  if (!probes.length) throw new Error('no probes: nothing would be checked');
  return probes.flatMap((p) => {
    const d = decide(rs, p.table, p.chain, p.packet);
    return p.holds(d) ? [] : [`${p.table} ${p.chain}: ${p.what}: wanted ${p.wanted}, got ${explain(d)}`];
  });
}
