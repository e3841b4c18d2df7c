import type { DataMode, Policy, Topology } from '../topology/types.ts';
import { HOOKS, ownedChain, type Hook } from '../topology/validate.ts';
import type { HostFacts } from './facts.ts';
import { enforced, publishedFlows } from './policy.ts';

export type Table = 'nat' | 'filter';

/** One iptables rule we own, in a chain of ours, with the reason it exists kept beside it. */
export interface Rule {
  /** Stable id, also the iptables comment after the tag: `ecomnet:<id>`. */
  id: string;
  table: Table;
  /** Our chain (`ownedChain` of the built-in chain whose traffic it sees); rules keep their declared order in it. */
  chain: string;
  match: string[];
  target: string[];
  why: string;
  /** From the seed's task 1.3/1.4 table, rather than added to make it work on real hosts. */
  seed: boolean;
}

/** The one rule by which a built-in chain's traffic enters a chain of ours, tagged `<tag>:jump`. */
export interface Jump {
  table: Table;
  /** Where it sits: the built-in chain, or DOCKER-USER in place of FORWARD when Docker is there. */
  from: string;
  /** Our chain. */
  chain: string;
  /** At the top of `from`; else appended. */
  insert: boolean;
  why: string;
}

/** The comment id every jump carries: the chain it sits in tells them apart. */
export const JUMP_ID = 'jump';

export interface RuleOptions {
  /** Reject container traffic out of the host's real uplink (test runs). */
  guard: boolean;
  /** East-west: only the topology's flows (deny, when absent), or the seed's flat network (open). */
  policy?: Policy;
  /** Where the data layer runs: in containers mode it is published on the bridge address (default native). */
  data?: DataMode;
}

/** IPv4 link-local (RFC 3927), where clouds answer instance metadata at 169.254.169.254. */
const LINK_LOCAL = '169.254.0.0/16';
const LOOPBACK = '127.0.0.0/8';

export function comment(tag: string, id: string): string {
  return `${tag}:${id}`;
}

/** The full rule set for a topology on a host, in the order it is applied. */
export function declaredRules(t: Topology, facts: HostFacts, opts: RuleOptions): Rule[] {
  const subnet = t.app.subnet;
  const br = t.app.bridge.name;
  const own = (hook: Hook) => ownedChain(t.tag, hook);
  const filter: Rule[] = [];
  if (opts.guard && facts.uplinkDev) {
    filter.push({
      id: 'uplink-guard',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['-s', subnet, '-o', facts.uplinkDev, '-m', 'conntrack', '--ctstate', 'NEW'],
      target: ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      why: `Test guard: no connection from the container subnet may leave by the real uplink ${facts.uplinkDev}; the only internet tests reach is our simulated one.`,
    });
  }
  // Both before any accept of ours, so none of them can let such a packet through.
  filter.push(
    {
      id: 'link-local-reject',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['-s', subnet, '-d', LINK_LOCAL],
      target: ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      why: `No namespace reaches a link-local address (${LINK_LOCAL}): a cloud's instance metadata service answers there with the machine's credentials.`,
    },
    {
      id: 'bridge-ingress',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['!', '-i', br, '-o', br, '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT'],
      target: ['-j', 'DROP'],
      why: `From any other interface only replies and port-forwarded (DNATed) connections enter ${br}: with ip_forward on and a FORWARD policy ACCEPT, a neighbour routing ${subnet} through this host would reach every service directly.`,
    },
  );
  filter.push(...publishedRules(t, opts.policy ?? 'deny'), ...hostInputRules(t, opts));
  const nat: Rule[] = [
    {
      id: 'egress-masquerade',
      table: 'nat',
      chain: own('POSTROUTING'),
      seed: true,
      match: ['-s', subnet, '!', '-o', br],
      target: ['-j', 'MASQUERADE'],
      why: 'Namespaces reach the outside world: their 10.0.0.x source is rewritten to the address of the interface they leave by.',
    },
  ];
  for (const pf of t.portForwards) {
    const dest = t.app.nodes.find((n) => n.name === pf.node)!;
    const to = ['-j', 'DNAT', '--to-destination', `${dest.ip}:${pf.port}`];
    const local = ['-p', 'tcp', '--dport', String(pf.hostPort), '-m', 'addrtype', '--dst-type', 'LOCAL'];
    nat.push(
      {
        id: `dnat-${pf.hostPort}`,
        table: 'nat',
        chain: own('PREROUTING'),
        seed: true,
        match: local,
        target: to,
        why: `Arriving connections to port ${pf.hostPort} of any host address are sent to ${dest.name} ${dest.ip}:${pf.port} (limited to local addresses so traffic merely passing through is untouched).`,
      },
      {
        id: `dnat-${pf.hostPort}-local`,
        table: 'nat',
        chain: own('OUTPUT'),
        seed: false,
        match: local,
        target: to,
        why: `The host's own connections (curl localhost:${pf.hostPort}) never pass PREROUTING; this DNAT catches them in OUTPUT.`,
      },
    );
    filter.push({
      id: `forward-${pf.node}`,
      table: 'filter',
      chain: own('FORWARD'),
      seed: true,
      match: ['-d', dest.ip, '-p', 'tcp', '--dport', String(pf.port)],
      target: ['-j', 'ACCEPT'],
      why: `Forwarded (DNATed) connections may reach ${dest.name}:${pf.port} even when the FORWARD policy is DROP.`,
    });
  }
  nat.push(
    {
      id: 'localhost-masquerade',
      table: 'nat',
      chain: own('POSTROUTING'),
      seed: false,
      match: ['-s', '127.0.0.0/8', '-o', br],
      target: ['-j', 'MASQUERADE'],
      why: `With route_localnet on ${br}, a 127.0.0.1 source may leave by it; masquerading gives the namespace an address it can answer.`,
    },
    {
      id: 'hairpin-masquerade',
      table: 'nat',
      chain: own('POSTROUTING'),
      seed: false,
      match: ['-s', subnet, '-o', br, '-m', 'conntrack', '--ctstate', 'DNAT'],
      target: ['-j', 'MASQUERADE'],
      why: `Hairpin: a namespace calling a host address on a forwarded port is DNATed back into ${br}; masquerading makes the reply return through the host.`,
    },
  );
  filter.push(
    {
      id: 'bridge-internal',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['-i', br, '-o', br],
      target: ['-j', 'ACCEPT'],
      why: `Traffic between namespaces on ${br}; needed where br_netfilter passes bridged frames through FORWARD (hosts with Docker).`,
    },
    {
      id: 'bridge-egress',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['-i', br, '!', '-o', br],
      target: ['-j', 'ACCEPT'],
      why: `Namespaces may open connections out of ${br} even when the FORWARD policy is DROP.`,
    },
    {
      id: 'bridge-replies',
      table: 'filter',
      chain: own('FORWARD'),
      seed: false,
      match: ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'],
      target: ['-j', 'ACCEPT'],
      why: `Replies to connections the namespaces opened come back into ${br}.`,
    },
  );
  return [...nat, ...filter];
}

/**
 * Containers mode: Docker publishes the data layer on the bridge address and DNATs what arrives
 * there (its nat DOCKER chain, from PREROUTING for any local destination, `! -i docker0`) to the
 * container, so those connections are forwarded, through DOCKER-USER and our chain, out of a
 * Docker bridge, never out of ours. A host address answers on every interface, so without a
 * rule a neighbour sending to the bridge address reaches the data layer; the host's own
 * connections never pass FORWARD (OUTPUT DNATs them) and are untouched. Inert in native mode,
 * where nothing is DNATed to these ports. Matched on the connection's original destination,
 * and NEW only, so replies always pass.
 */
export function publishedRules(t: Topology, policy: Policy): Rule[] {
  const br = t.app.bridge.name;
  const own = ownedChain(t.tag, 'FORWARD');
  return publishedFlows(t).flatMap(({ c, node, host, port, from }) => {
    const original = ['-p', 'tcp', '-m', 'conntrack', '--ctstate', 'NEW', '--ctorigdst', host, '--ctorigdstport', String(port)];
    const rules: Rule[] = [
      {
        id: `published-${c}-ingress`,
        table: 'filter',
        chain: own,
        seed: false,
        match: ['!', '-i', br, '!', '-o', br, ...original],
        target: ['-j', 'DROP'],
        why: `${node.role} published on ${host}:${port} (containers mode) is reached only by the host and the namespaces: a connection arriving on any other interface is dropped.`,
      },
    ];
    if (!enforced(t, policy)) return rules;
    for (const n of from)
      rules.push({
        id: `published-${c}-from-${n.name}`,
        table: 'filter',
        chain: own,
        seed: false,
        match: ['-i', br, '!', '-o', br, '-s', n.ip, ...original],
        target: ['-j', 'ACCEPT'],
        why: `Flow ${n.name} -> ${node.name}, whose ${node.role} is published on ${host}:${port} in containers mode.`,
      });
    rules.push({
      id: `published-${c}-deny`,
      table: 'filter',
      chain: own,
      seed: false,
      match: ['-i', br, '!', '-o', br, ...original],
      target: ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'],
      why: `East-west, deny by default: no other namespace reaches ${node.role} published on ${host}:${port}.`,
    });
    return rules;
  });
}

/**
 * The host's own INPUT, from the bridge. route_localnet on it (for the host's `curl
 * localhost:8080`, see localhost-masquerade) also lets anything on the bridge address the
 * host's 127.0.0.1, where servers bound to loopback trust whoever reaches them: the
 * CVE-2020-8558 pattern, guarded as kube-proxy does, under either policy (the seed, without
 * route_localnet, drops those packets as martians). Under deny a namespace opens nothing on
 * the host but its flows to containers mode's published data layer (which Docker's DNAT
 * forwards, but its proxy would take here); ICMP and replies pass, the rest is rejected.
 * Under open the host is reached as in the seed.
 */
export function hostInputRules(t: Topology, opts: RuleOptions): Rule[] {
  const br = t.app.bridge.name;
  const chain = ownedChain(t.tag, 'INPUT');
  const rule = (id: string, match: string[], target: string[], why: string): Rule => ({ id, table: 'filter', chain, match: ['-i', br, ...match], target, why, seed: false });
  const pass = (id: string, match: string[], why: string) => rule(id, match, ['-j', 'RETURN'], why);
  const rules = [
    rule(
      'localnet-guard',
      ['-d', LOOPBACK, '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT'],
      ['-j', 'DROP'],
      `Nothing on ${br} reaches the host's ${LOOPBACK} but replies (the host's localhost connections, masqueraded out of ${br}) and connections a DNAT sent there: route_localnet on ${br} would otherwise expose every server bound to loopback (CVE-2020-8558).`,
    ),
  ];
  if (!enforced(t, opts.policy ?? 'deny')) return rules;
  const published = opts.data === 'containers' ? publishedFlows(t) : [];
  rules.push(
    pass('host-replies', ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'], `Replies to the host's own connections into ${br}, and their ICMP errors.`),
    pass('host-icmp', ['-p', 'icmp'], `ICMP to the host's address ${t.app.bridge.ip}, the namespaces' gateway.`),
    ...published.flatMap(({ c, node, host, port, from }) =>
      from.map((n) =>
        pass(
          `published-${c}-input-from-${n.name}`,
          ['-s', n.ip, '-d', host, '-p', 'tcp', '--dport', String(port)],
          `Flow ${n.name} -> ${node.name}, whose ${node.role} is published on ${host}:${port} in containers mode (answered here when Docker's proxy, not its DNAT, takes it).`,
        ),
      ),
    ),
    rule('host-deny', [], ['-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited'], `East-west, deny by default: a namespace opens no other connection on the host.`),
  );
  return rules;
}

/** Where each jump sits, and why there. */
function entry(hook: Hook, chain: string, from: string): Pick<Jump, 'insert' | 'why'> {
  switch (hook) {
    case 'PREROUTING':
    case 'OUTPUT':
      return {
        insert: true,
        why: `First in ${hook}: the port forward wins for host addresses over any later DNAT, Docker's jump to its DOCKER chain included; ${chain} catches nothing but the forwarded ports.`,
      };
    case 'POSTROUTING':
      return { insert: false, why: `Appended to ${hook}, as the seed's MASQUERADE is: an SNAT or RETURN the host already has for these addresses still comes first.` };
    case 'FORWARD':
      return { insert: true, why: `First in ${from}, so nothing the host has there (a DROP policy, Docker's chains) decides before our rules do.` };
    case 'INPUT':
      return { insert: true, why: `First in ${hook}: an ACCEPT the host already has there must not let the bridge past our guard.` };
  }
}

/** One jump into each chain of ours that holds rules, in the order of HOOKS. */
export function declaredJumps(t: Topology, facts: HostFacts, rules: Rule[]): Jump[] {
  return HOOKS.flatMap((hook) => {
    const chain = ownedChain(t.tag, hook);
    const table = rules.find((r) => r.chain === chain)?.table;
    if (!table) return [];
    // Docker puts its jump to DOCKER-USER first in FORWARD and keeps it there.
    const from = hook === 'FORWARD' && facts.dockerUser ? 'DOCKER-USER' : hook;
    return [{ table, from, chain, ...entry(hook, chain, from) }];
  });
}

/** A rule's words after `-A CHAIN`: matches, tag comment, target. */
export function ruleArgs(tag: string, r: Rule): string[] {
  return [...r.match, '-m', 'comment', '--comment', comment(tag, r.id), ...r.target];
}

/** A jump's words after `-I FROM` or `-A FROM`. */
export function jumpArgs(tag: string, j: Jump): string[] {
  return ['-m', 'comment', '--comment', comment(tag, JUMP_ID), '-j', j.chain];
}

export function jumpVerb(j: Jump): string[] {
  return [j.insert ? '-I' : '-A', j.from];
}

/** One iptables-restore line, the comment quoted as iptables-save prints it. */
function restoreLine(verb: string[], args: string[]): string {
  return [...verb, ...args.map((w, i) => (args[i - 1] === '--comment' ? `"${w}"` : w))].join(' ');
}

/**
 * `iptables-restore --noflush` input: our chains declared (created, or emptied when they
 * exist), filled in declared order, then entered by one jump each. Over a live platform the
 * jumps would double: `up` sees that (networkMatches) and rebuilds, and teardown removes every copy.
 */
export function restoreText(tag: string, rules: Rule[], jumps: Jump[]): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const entries = jumps.filter((j) => j.table === table);
    if (!entries.length) continue;
    out.push(
      `*${table}`,
      ...entries.map((j) => `:${j.chain} - [0:0]`),
      ...entries.flatMap((j) => rules.filter((r) => r.chain === j.chain).map((r) => restoreLine(['-A', r.chain], ruleArgs(tag, r)))),
      ...entries.map((j) => restoreLine(jumpVerb(j), jumpArgs(tag, j))),
      'COMMIT',
    );
  }
  return `${out.join('\n')}\n`;
}
