import { prefixOf } from '../topology/ipv4.ts';
import type { NodeSpec, Segment, Topology } from '../topology/types.ts';
import { hostNamed, overlayMtu } from '../topology/hosts.ts';
import { peerName, validate } from '../topology/validate.ts';
import type { HostFacts } from './facts.ts';
import { type NsFirewall, nsFirewalls } from './policy.ts';
import { declaredJumps, declaredRules, restoreText, type Jump, type Rule, type RuleOptions } from './rules.ts';

export interface Sysctl {
  key: string;
  value: string;
  /** Value found before `up`, restored by `down`; null for keys of links we create (they go with the link). */
  before: string | null;
}

export interface NsBatch {
  ns: string;
  lines: string[];
}

/** Everything `up` will do to the host, computed without touching it. */
export interface Plan {
  tag: string;
  namespaces: string[];
  /** Host links we create: the bridges (deleted by name) and the host-side veth peers (they go with their namespaces). */
  bridges: string[];
  veths: string[];
  /** `ip -batch` lines run on the host. */
  hostBatch: string[];
  /** `ip -n NS -batch` lines, one batch per namespace. */
  nsBatches: NsBatch[];
  sysctls: Sysctl[];
  rules: Rule[];
  /** One per chain of ours: the only lines we add to chains we do not own. */
  jumps: Jump[];
  /** `iptables-restore --noflush` input that creates our chains, fills them and adds the jumps. */
  restore: string;
  /** East-west policy: one chain of ours in each app namespace's INPUT, with its restore text (none under `--policy open`). */
  firewalls: (NsFirewall & { restore: string })[];
}

export type PlanOptions = RuleOptions;

function segmentHostLines(seg: Segment): string[] {
  const br = seg.bridge.name;
  const lines = [`link add ${br} type bridge`, `addr add ${seg.bridge.ip}/${prefixOf(seg.subnet)} dev ${br}`, `link set ${br} up`];
  for (const n of seg.nodes) {
    const peer = peerName(n.veth);
    lines.push(`link add ${peer} type veth peer name ${n.veth} netns ${n.name}`, `link set ${peer} master ${br}`, `link set ${peer} up`);
  }
  return lines;
}

function nodeLines(seg: Segment, n: NodeSpec, mtu: number | undefined): string[] {
  return [
    `addr add ${n.ip}/${prefixOf(seg.subnet)} dev ${n.veth}`,
    ...(mtu ? [`link set ${n.veth} mtu ${mtu}`] : []),
    `link set ${n.veth} up`,
    'link set lo up',
    `route add default via ${seg.bridge.ip}`,
  ];
}

/**
 * Multi-host (course day 6): this host's end of the VXLAN to the other hosts, on the underlay
 * device, enslaved to br-app so the hosts' bridges are one segment; the app veths' host ends take
 * the overlay's MTU too (their namespace ends in nodeLines), so nothing larger than the overlay
 * carries is ever sent into it. Two hosts (validate.ts), so the course's `remote` names the other.
 */
function overlayLines(t: Topology): string[] {
  if (!t.hosts || !t.here) return [];
  const { underlay, overlay } = t.hosts;
  const self = hostNamed(t, t.here);
  const other = t.hosts.list.find((h) => h.name !== t.here)!;
  const mtu = overlayMtu(t)!;
  return [
    `link add ${overlay.name} type vxlan id ${overlay.vni} remote ${other.underlay} local ${self.underlay} dstport ${overlay.port} dev ${underlay.dev}`,
    `link set ${overlay.name} mtu ${mtu}`,
    `link set ${overlay.name} master ${t.app.bridge.name}`,
    `link set ${overlay.name} up`,
    ...t.app.nodes.map((n) => `link set ${peerName(n.veth)} mtu ${mtu}`),
  ];
}

/**
 * With br_netfilter, a namespace calling a host address on a forwarded port is DNATed to a
 * target on the same bridge and bridged, not routed: the target's port must accept a frame
 * going back out the port it came in by (hairpin), or a target calling itself times out.
 */
function hairpinLines(t: Topology): string[] {
  const targets = new Set(t.portForwards.map((pf) => pf.node));
  return t.app.nodes.filter((n) => targets.has(n.name)).map((n) => `link set ${peerName(n.veth)} type bridge_slave hairpin on`);
}

/**
 * The outside segment alone (external client, simulated internet, their uplink bridge): what
 * `ecomnet verify` adds beside a build it did not make, to reach it from outside.
 */
export function sysctlKeys(t: Topology): { forward: string; localnet: string } {
  return { forward: 'net.ipv4.ip_forward', localnet: `net.ipv4.conf.${t.app.bridge.name}.route_localnet` };
}

/** The pure heart of `up`: topology + host facts -> the exact commands. */
export function buildPlan(t: Topology, facts: HostFacts, opts: PlanOptions): Plan {
  validate(t, facts.routes);
  const segments = [t.app, t.outside];
  const nodes = segments.flatMap((s) => s.nodes.map((n) => ({ seg: s, n })));
  const keys = sysctlKeys(t);
  const rules = declaredRules(t, facts, opts);
  const jumps = declaredJumps(t, facts, rules);
  return {
    tag: t.tag,
    namespaces: nodes.map(({ n }) => n.name),
    bridges: [...segments.map((s) => s.bridge.name), ...(t.hosts && t.here ? [t.hosts.overlay.name] : [])],
    veths: nodes.map(({ n }) => peerName(n.veth)),
    hostBatch: [...nodes.map(({ n }) => `netns add ${n.name}`), ...segments.flatMap(segmentHostLines), ...hairpinLines(t), ...overlayLines(t)],
    nsBatches: nodes.map(({ seg, n }) => ({ ns: n.name, lines: nodeLines(seg, n, seg === t.app ? overlayMtu(t) : undefined) })),
    sysctls: [
      { key: keys.forward, value: '1', before: facts.sysctl[keys.forward] ?? null },
      { key: keys.localnet, value: '1', before: null },
    ],
    rules,
    jumps,
    restore: restoreText(t.tag, rules, jumps),
    firewalls: nsFirewalls(t, opts.policy ?? 'deny').map((f) => ({ ...f, restore: restoreText(t.tag, f.rules, [f.jump]) })),
  };
}
