import type { Topology } from '../topology/types.ts';
import type { HostFacts } from './facts.ts';

export type Table = 'nat' | 'filter';

/** One iptables rule we own, with the reason it exists kept beside it. */
export interface Rule {
  /** Stable id, also the iptables comment after the tag: `ecomnet:<id>`. */
  id: string;
  table: Table;
  chain: string;
  /** Insert at the top of the chain (so a DROP policy or Docker's chains don't pre-empt it). */
  insert: boolean;
  match: string[];
  target: string[];
  why: string;
  /** From the seed's task 1.3/1.4 table, rather than added to make it work on real hosts. */
  seed: boolean;
}

export interface RuleOptions {
  /** Reject container traffic out of the host's real uplink (test runs). */
  guard: boolean;
}

export function comment(tag: string, id: string): string {
  return `${tag}:${id}`;
}

/** The full rule set for a topology on a host, in the order it is applied. */
export function declaredRules(t: Topology, facts: HostFacts, opts: RuleOptions): Rule[] {
  const subnet = t.app.subnet;
  const br = t.app.bridge.name;
  const fwd = facts.dockerUser ? 'DOCKER-USER' : 'FORWARD';
  const filter: Rule[] = [];
  if (opts.guard && facts.uplinkDev) {
    filter.push({
      id: 'uplink-guard', table: 'filter', chain: fwd, insert: true, seed: false,
      match: ['-s', subnet, '-o', facts.uplinkDev, '-m', 'conntrack', '--ctstate', 'NEW'],
      target: ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      why: `Test guard: no connection from the container subnet may leave by the real uplink ${facts.uplinkDev}; the only internet tests reach is our simulated one.`,
    });
  }
  const nat: Rule[] = [
    {
      id: 'egress-masquerade', table: 'nat', chain: 'POSTROUTING', insert: false, seed: true,
      match: ['-s', subnet, '!', '-o', br], target: ['-j', 'MASQUERADE'],
      why: 'Namespaces reach the outside world: their 10.0.0.x source is rewritten to the address of the interface they leave by.',
    },
  ];
  for (const pf of t.portForwards) {
    const dest = t.app.nodes.find((n) => n.name === pf.node)!;
    const to = ['-j', 'DNAT', '--to-destination', `${dest.ip}:${pf.port}`];
    const local = ['-p', 'tcp', '--dport', String(pf.hostPort), '-m', 'addrtype', '--dst-type', 'LOCAL'];
    nat.push(
      {
        id: `dnat-${pf.hostPort}`, table: 'nat', chain: 'PREROUTING', insert: false, seed: true, match: local, target: to,
        why: `Arriving connections to port ${pf.hostPort} of any host address are sent to ${dest.name} ${dest.ip}:${pf.port} (limited to local addresses so traffic merely passing through is untouched).`,
      },
      {
        id: `dnat-${pf.hostPort}-local`, table: 'nat', chain: 'OUTPUT', insert: false, seed: false, match: local, target: to,
        why: `The host's own connections (curl localhost:${pf.hostPort}) never pass PREROUTING; this DNAT catches them in OUTPUT.`,
      },
    );
    filter.push({
      id: `forward-${pf.node}`, table: 'filter', chain: fwd, insert: true, seed: true,
      match: ['-d', dest.ip, '-p', 'tcp', '--dport', String(pf.port)], target: ['-j', 'ACCEPT'],
      why: `Forwarded (DNATed) connections may reach ${dest.name}:${pf.port} even when the FORWARD policy is DROP.`,
    });
  }
  nat.push(
    {
      id: 'localhost-masquerade', table: 'nat', chain: 'POSTROUTING', insert: false, seed: false,
      match: ['-s', '127.0.0.0/8', '-o', br], target: ['-j', 'MASQUERADE'],
      why: `With route_localnet on ${br}, a 127.0.0.1 source may leave by it; masquerading gives the namespace an address it can answer.`,
    },
    {
      id: 'hairpin-masquerade', table: 'nat', chain: 'POSTROUTING', insert: false, seed: false,
      match: ['-s', subnet, '-o', br, '-m', 'conntrack', '--ctstate', 'DNAT'], target: ['-j', 'MASQUERADE'],
      why: `Hairpin: a namespace calling a host address on a forwarded port is DNATed back into ${br}; masquerading makes the reply return through the host.`,
    },
  );
  filter.push(
    {
      id: 'bridge-internal', table: 'filter', chain: fwd, insert: true, seed: false,
      match: ['-i', br, '-o', br], target: ['-j', 'ACCEPT'],
      why: `Traffic between namespaces on ${br}; needed where br_netfilter passes bridged frames through FORWARD (hosts with Docker).`,
    },
    {
      id: 'bridge-egress', table: 'filter', chain: fwd, insert: true, seed: false,
      match: ['-i', br, '!', '-o', br], target: ['-j', 'ACCEPT'],
      why: `Namespaces may open connections out of ${br} even when the FORWARD policy is DROP.`,
    },
    {
      id: 'bridge-replies', table: 'filter', chain: fwd, insert: true, seed: false,
      match: ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'], target: ['-j', 'ACCEPT'],
      why: `Replies to connections the namespaces opened come back into ${br}.`,
    },
  );
  return [...nat, ...filter];
}

/** A rule as an iptables-restore / iptables-save line, with its position when inserted. */
export function ruleLine(tag: string, r: Rule, position?: number): string {
  const verb = r.insert ? `-I ${r.chain}${position ? ` ${position}` : ''}` : `-A ${r.chain}`;
  return [verb, ...r.match, '-m', 'comment', '--comment', `"${comment(tag, r.id)}"`, ...r.target].join(' ');
}

/**
 * `iptables-restore --noflush` input. Inserted rules get explicit positions 1..n so they keep
 * their declared order above whatever the host already has.
 */
export function restoreText(tag: string, rules: Rule[]): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const mine = rules.filter((r) => r.table === table);
    if (!mine.length) continue;
    out.push(`*${table}`);
    const positions = new Map<string, number>();
    for (const r of mine) {
      if (!r.insert) {
        out.push(ruleLine(tag, r));
        continue;
      }
      const pos = (positions.get(r.chain) ?? 0) + 1;
      positions.set(r.chain, pos);
      out.push(ruleLine(tag, r, pos));
    }
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}
