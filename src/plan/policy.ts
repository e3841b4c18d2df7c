import { dataAddress } from '../topology/default.ts';
import type { DataComponent, DataMode, NodeSpec, Policy, Topology } from '../topology/types.ts';
import { ownedChain } from '../topology/validate.ts';
import type { Jump, Rule } from './rules.ts';

/**
 * East-west, deny by default: what one app namespace may open to another, from the topology's
 * flows. Without br_netfilter, frames between two ports of br-app are bridged and never cross
 * the host's FORWARD chain, so the host cannot filter them there. Every one of them does pass
 * the destination namespace's own INPUT, whatever the host loads: that is where the policy
 * sits, in a chain of ours in each namespace, which goes with the namespace (teardown and a
 * crash leave nothing of it). Containers mode's data is on the host behind Docker's DNAT, so
 * its part of the policy is in the host's FORWARD instead (publishedRules in rules.ts).
 */

/** The chain of ours in each namespace, entered from its INPUT. */
export const nsChain = (tag: string): string => ownedChain(tag, 'INPUT');

/** What the policy applies to: `open`, or a topology without flows, is the seed's flat network. */
export const enforced = (t: Topology, policy: Policy): boolean => policy === 'deny' && t.flows !== undefined;

/** The port a connection to `to` uses: the flow's, else the node's own. */
/** An app node here or, multi-host, on another host (a flow's source may be there). */
const appNode = (t: Topology, name: string): NodeSpec | undefined => [...t.app.nodes, ...(t.app.remote ?? [])].find((n) => n.name === name);
const flowPort = (t: Topology, f: { to: string; port?: number }): number | undefined => f.port ?? appNode(t, f.to)?.port;

/** Why `from` may (or may not) open a TCP connection to `to`:`port` under the policy; undefined when it may not. */
export function allowedBy(t: Topology, policy: Policy, from: NodeSpec, to: NodeSpec, port: number): string | undefined {
  if (!enforced(t, policy)) return `policy ${policy === 'open' ? 'open' : 'absent'}: the flat network`;
  if (t.portForwards.some((pf) => pf.node === to.name && pf.port === port)) return `${to.name}:${port} is the port forward's target, public`;
  return t.flows!.find((f) => f.from === from.name && f.to === to.name && flowPort(t, f) === port)?.why;
}

/** One namespace's firewall: our chain's rules, the jump into it, and the namespace's own sysctls set before them. */
export interface NsFirewall {
  ns: string;
  rules: Rule[];
  jump: Jump;
  sysctls: { key: string; value: string }[];
}

/**
 * The flows are IPv4 and so is the policy; the lab uses no IPv6, but every veth gets an IPv6
 * link-local address, by which a server listening on `::` in one namespace would be reached from
 * any other, past the chain. Off in each app namespace (its own sysctls, gone with it).
 */
export const IPV6_OFF = [
  { key: 'net.ipv6.conf.all.disable_ipv6', value: '1' },
  { key: 'net.ipv6.conf.default.disable_ipv6', value: '1' },
];

/**
 * The chain tracks every connection anyway; with accounting on from the start, `ecomnet observe`
 * counts the bytes of connections kept alive since before it started (nginx's to the gateway, the
 * services' to Redis and PostgreSQL), which it could not switch accounting on for afterwards.
 */
export const CONNTRACK_ACCOUNTING = { key: 'net.netfilter.nf_conntrack_acct', value: '1' };

/**
 * The rules in each app namespace's INPUT. Allowed traffic RETURNs (the namespace's INPUT goes
 * on, so a rule someone adds there still sees it); anything else is rejected with
 * admin-prohibited, which a client tells apart from a closed port.
 */
export function nsFirewalls(t: Topology, policy: Policy): NsFirewall[] {
  if (!enforced(t, policy)) return [];
  const chain = nsChain(t.tag);
  const pass = (id: string, match: string[], why: string): Rule => ({ id, table: 'filter', chain, match, target: ['-j', 'RETURN'], why, seed: false });
  return t.app.nodes.map((n) => {
    const rules: Rule[] = [
      pass('ns-replies', ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'], 'Replies to connections either side opened, and their ICMP errors.'),
      pass('ns-loopback', ['-i', 'lo'], `Loopback: ${n.name} reaches itself (the seed's \`curl localhost:PORT\` inside a namespace).`),
      pass('ns-icmp', ['-p', 'icmp'], "ICMP between all namespaces: the seed's ping tests (task 1.2)."),
      // The host's address is no key to every port: what it opens is the service (readiness
      // checks, the observer, verify, psql and curl on the host; its localhost and hairpin
      // connections are masqueraded to it).
      ...(n.port === undefined
        ? []
        : [pass('ns-host', ['-s', t.app.bridge.ip, '-p', 'tcp', '--dport', String(n.port)], `The host (${t.app.bridge.ip}) reaches ${n.name}'s service on ${n.port}, and no other port.`)]),
      ...t.portForwards
        .filter((pf) => pf.node === n.name)
        .map((pf) =>
          pass(
            `public-${pf.port}`,
            ['-p', 'tcp', '--dport', String(pf.port)],
            `The port forward's target ${n.name}:${pf.port}: anyone reaching host port ${pf.hostPort} reaches it, so every source may.`,
          ),
        ),
      ...t
        .flows!.filter((f) => f.to === n.name)
        .map((f) => {
          const from = appNode(t, f.from)!;
          return pass(`flow-${f.from}`, ['-s', from.ip, '-p', 'tcp', '--dport', String(flowPort(t, f))], `Flow ${f.from} -> ${f.to}: ${f.why}.`);
        }),
      {
        id: 'ns-deny',
        table: 'filter',
        chain,
        match: [],
        target: ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
        why: `Deny by default: no other connection reaches ${n.name}.`,
        seed: false,
      },
    ];
    return {
      ns: n.name,
      rules,
      jump: { table: 'filter', from: 'INPUT', chain, insert: true, why: `First in ${n.name}'s INPUT: the policy decides before anything else there.` },
      sysctls: [...IPV6_OFF, CONNTRACK_ACCOUNTING],
    };
  });
}

/** A data component's flows in containers mode: who may open its port published on the bridge address. */
export function publishedFlows(t: Topology): { c: DataComponent; node: NodeSpec; host: string; port: number; from: NodeSpec[] }[] {
  if (!t.published) return [];
  return (Object.keys(t.published) as DataComponent[]).flatMap((c) => {
    const node = t.app.nodes.find((n) => n.component === c);
    if (!node) return [];
    const { host, port } = dataAddress(c, 'containers', t);
    const from = (t.flows ?? []).filter((f) => f.to === node.name && flowPort(t, f) === node.port).map((f) => appNode(t, f.from)!);
    return [{ c, node, host, port, from }];
  });
}

/** Where a node's service answers: its own address, or for the data layer in containers mode, the published one. */
export function serviceAddress(t: Topology, n: NodeSpec, data: DataMode): { host: string; port: number } | undefined {
  if (n.port === undefined) return undefined;
  const c = n.component;
  if ((c === 'postgres' || c === 'redis') && data === 'containers') return dataAddress(c, data, t);
  return { host: n.ip, port: n.port };
}
