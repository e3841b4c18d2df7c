import { contains, overlaps, parseCidr, parseIp } from './ipv4.ts';
import type { HostRoute, NodeSpec, Segment, Topology } from './types.ts';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME = 15;

/** iptables chain names: XT_EXTENSION_MAXNAMELEN is 29 including the terminating NUL. */
export const MAX_CHAIN = 28;

/** The built-in chains whose traffic we handle, each through one chain of ours (INPUT: the host's, from the bridge). */
export const HOOKS = ['PREROUTING', 'OUTPUT', 'POSTROUTING', 'FORWARD', 'INPUT'] as const;
export type Hook = (typeof HOOKS)[number];

export class TopologyError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid topology:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Host-side peer of a namespace's veth, in the seed's naming pattern. */
export function peerName(veth: string): string {
  return `${veth}-br`;
}

/** What a tag may be: it names our chains, comments and labels, so lowercase, with "ecomnet" in it. */
export function isTag(tag: string): boolean {
  return /^[a-z][a-z0-9-]*$/.test(tag) && tag.includes('ecomnet');
}

/** Our chain for a built-in one (INPUT: on the host, and in each namespace for the east-west policy), named from the tag as CNI plugins name theirs, so two platforms never share one. */
export function ownedChain(tag: string, hook: Hook): string {
  return `${tag.toUpperCase()}-${hook}`;
}

function checkSegment(seg: Segment, label: string, problems: string[]): void {
  const net = parseCidr(seg.subnet);
  if (!net) {
    problems.push(`${label} subnet "${seg.subnet}" is not an IPv4 CIDR`);
    return;
  }
  const addresses = [{ who: `bridge ${seg.bridge.name}`, ip: seg.bridge.ip }, ...seg.nodes.map((n) => ({ who: n.name, ip: n.ip }))];
  for (const { who, ip } of addresses) {
    const n = parseIp(ip);
    if (n === undefined) problems.push(`${who}: "${ip}" is not an IPv4 address`);
    else if (!contains(net, n)) problems.push(`${who}: ${ip} is outside the subnet ${seg.subnet}`);
    else if (n === net.base || (net.prefix < 31 && n === net.base + 2 ** (32 - net.prefix) - 1)) problems.push(`${who}: ${ip} is the network or broadcast address of ${seg.subnet}`);
  }
}

/** Multi-host (course day 6): two hosts on one underlay, each app node on exactly one, each bridge address its own. */
function checkHosts(t: Topology, appNodes: NodeSpec[], problems: string[]): void {
  const { underlay, overlay, list } = t.hosts!;
  if (list.length !== 2) problems.push(`hosts: ${list.length} hosts; a multi-host topology joins two (course day 6's VXLAN names one remote)`);
  const lan = parseCidr(underlay.subnet);
  if (!lan) problems.push(`hosts.underlay.subnet "${underlay.subnet}" is not an IPv4 CIDR`);
  const app = parseCidr(t.app.subnet);
  for (const [who, ip] of [['the underlay router', underlay.router], ...list.map((h) => [`host ${h.name}`, h.underlay])] as [string, string][]) {
    const n = parseIp(ip);
    if (n === undefined || (lan && !contains(lan, n))) problems.push(`${who}: ${ip} is not an address of the underlay ${underlay.subnet}`);
  }
  for (const h of list) {
    const n = parseIp(h.bridge);
    if (n === undefined || (app && !contains(app, n))) problems.push(`host ${h.name}: its bridge address ${h.bridge} is not in the app subnet ${t.app.subnet}`);
  }
  if (!Number.isInteger(overlay.vni) || overlay.vni < 1 || overlay.vni > 0xffffff) problems.push(`hosts.overlay.vni ${overlay.vni} is not in 1..16777215`);
  if (!Number.isInteger(overlay.port) || overlay.port < 1 || overlay.port > 65535) problems.push(`hosts.overlay.port ${overlay.port} is not in 1..65535`);
  if (overlay.name.length > MAX_IFNAME) problems.push(`interface name "${overlay.name}" is ${overlay.name.length} characters; Linux allows at most ${MAX_IFNAME}`);
  if (!Number.isInteger(underlay.mtu) || underlay.mtu < 1280 + 50 || underlay.mtu > 9000)
    problems.push(`hosts.underlay.mtu ${underlay.mtu} is not in ${1280 + 50}..9000 (the overlay carries 50 bytes less)`);
  const placed = list.flatMap((h) => h.nodes);
  for (const n of appNodes) if (!placed.includes(n.name)) problems.push(`app node ${n.name} is on no host`);
  for (const d of duplicates(placed)) problems.push(`app node ${d} is on more than one host`);
  for (const p of placed) if (!appNodes.some((n) => n.name === p)) problems.push(`hosts: "${p}" is not a namespace of the app segment`);
  for (const d of duplicates(list.map((h) => h.name))) problems.push(`duplicate host name "${d}"`);
  for (const d of duplicates(list.map((h) => h.underlay))) problems.push(`duplicate underlay address ${d}`);
  for (const d of duplicates([...list.map((h) => h.bridge), ...appNodes.map((n) => n.ip)])) problems.push(`duplicate IP address ${d} on the overlay`);
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/**
 * Every problem at once, so a user fixes the declaration in one go. `hostRoutes` are the
 * host's current routes (minus our own links) so an overlap with an existing network is caught.
 */
export function validate(t: Topology, hostRoutes: HostRoute[] = []): void {
  const problems: string[] = [];
  const segments: [Segment, string][] = [
    [t.app, 'app'],
    [t.outside, 'outside'],
  ];
  for (const [seg, label] of segments) checkSegment(seg, label, problems);

  const nodes = [...t.app.nodes, ...t.outside.nodes];
  const ifnames = [t.app.bridge.name, t.outside.bridge.name, ...nodes.flatMap((n) => [n.veth, peerName(n.veth)])];
  for (const name of ifnames) {
    if (name.length > MAX_IFNAME) problems.push(`interface name "${name}" is ${name.length} characters; Linux allows at most ${MAX_IFNAME}`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) problems.push(`interface name "${name}" has characters Linux or iptables would reject`);
  }
  for (const n of nodes) if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n.name)) problems.push(`namespace name "${n.name}" must be letters, digits, '.', '_' or '-'`);
  for (const d of duplicates(nodes.map((n) => n.name))) problems.push(`duplicate namespace name "${d}"`);
  for (const d of duplicates(ifnames)) problems.push(`duplicate interface name "${d}"`);
  for (const d of duplicates([t.app.bridge.ip, t.outside.bridge.ip, ...nodes.map((n) => n.ip)])) problems.push(`duplicate IP address ${d}`);

  const app = parseCidr(t.app.subnet);
  const outside = parseCidr(t.outside.subnet);
  if (app && outside && overlaps(app, outside)) problems.push(`app subnet ${t.app.subnet} overlaps outside subnet ${t.outside.subnet}`);
  for (const [seg] of segments) {
    const net = parseCidr(seg.subnet);
    if (!net) continue;
    for (const r of hostRoutes) {
      const dst = r.dst === 'default' ? undefined : parseCidr(r.dst);
      if (dst && overlaps(net, dst)) problems.push(`subnet ${seg.subnet} overlaps the host route ${r.dst}${r.dev ? ` on ${r.dev}` : ''}; choose a free range`);
    }
  }

  for (const pf of t.portForwards) {
    const target = t.app.nodes.find((n) => n.name === pf.node);
    if (!target) problems.push(`port forward ${pf.hostPort} targets unknown node "${pf.node}"`);
    for (const p of [pf.hostPort, pf.port]) if (!Number.isInteger(p) || p < 1 || p > 65535) problems.push(`port ${p} is not in 1..65535`);
  }
  const appNodes = [...t.app.nodes, ...(t.app.remote ?? [])];
  for (const f of t.flows ?? []) {
    const from = appNodes.find((n) => n.name === f.from);
    const to = appNodes.find((n) => n.name === f.to);
    const at = `flow ${f.from} -> ${f.to}`;
    if (!from) problems.push(`${at}: "${f.from}" is not a namespace of the app segment`);
    if (!to) problems.push(`${at}: "${f.to}" is not a namespace of the app segment`);
    else if ((f.port ?? to.port) === undefined) problems.push(`${at}: ${f.to} has no port, so the flow must name one`);
    if (f.port !== undefined && (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535)) problems.push(`${at}: port ${f.port} is not in 1..65535`);
    if (f.from === f.to) problems.push(`${at}: a namespace always reaches itself (loopback); a flow joins two`);
  }
  if (t.hosts) checkHosts(t, appNodes, problems);
  if (!isTag(t.tag)) problems.push(`tag "${t.tag}" must be lowercase and contain "ecomnet"`);
  const longest = HOOKS.map((h) => ownedChain(t.tag, h)).reduce((a, b) => (b.length > a.length ? b : a));
  if (longest.length > MAX_CHAIN)
    problems.push(
      `tag "${t.tag}" is too long: it names the iptables chain ${longest} (${longest.length} characters, iptables allows at most ${MAX_CHAIN}); use a tag of at most ${t.tag.length - (longest.length - MAX_CHAIN)} characters`,
    );
  if (problems.length) throw new TopologyError(problems);
}
