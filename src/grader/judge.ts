/**
 * The one judge of a build's iptables rules. The seed's three rules (tasks 1.3 and 1.4) are held
 * to packets that show what each is for, walked through one parsed `iptables-save` (netfilter.ts),
 * so a rule set is judged by its effect whatever its spelling, order, tags or chains. Every
 * consumer reads this judgement and nothing else: the 1.4 check, the live diagram, the diagnosis
 * and its deviations and advice. A packet accepted by a chain's ACCEPT policy is accepted (a host
 * without Docker forwards so, as the seed's did), and said to be accepted by the policy.
 */
import { cidrHas, formatIp, parseCidr } from '../topology/ipv4.ts';
import { bridge, namespaces, rules } from './contract.ts';
import { appBridge, hostLink } from './find.ts';
import type { HostModel } from './model.ts';
import { uplinkOf } from '../net/uplink.ts';
import { decide, type Decision, explain, optionOf, type Packet, parseSave, type Ruleset, type SavedRule } from './netfilter.ts';
import { OUTSIDE } from '../topology/outside.ts';
import { ANY_CLIENT, type Vantage } from './vantage.ts';

/** Where the outside is, in the live setup: addressing only, the expectations are the seed's. */
export interface Outside {
  /** Interfaces that lead away from the lab: the vantage's first, then the host's real uplink if another. */
  ifaces: string[];
  /** The way out a namespace's egress is judged by: the host's real uplink (its default route), else the vantage's. */
  uplink: string;
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

/** The host's real uplink: its default route's device, never the lab's bridge nor the outside segment's. */
export function realUplink(model: HostModel): string | undefined {
  return uplinkOf(model.host.routes, [appBridge(model)?.name ?? bridge.name, OUTSIDE.bridge]);
}

/** The outside as seen from a vantage (verify's probe, a virtual host's world), or from the host alone (its default route). */
export function outsideOf(model: HostModel, vantage?: Vantage): Outside {
  const br = appBridge(model)?.name ?? bridge.name;
  const real = realUplink(model);
  const first = vantage?.iface ?? real ?? 'uplink';
  const ifaces = [first, ...(real && real !== first ? [real] : [])];
  return {
    ifaces,
    uplink: real ?? first,
    hostAddress: vantage?.hostAddress ?? hostLink(model, first)?.addresses[0]?.ip ?? bridge.ip,
    client: vantage?.client ?? ANY_CLIENT,
    internet: vantage?.internet ?? ANY_CLIENT,
    internetPort: vantage?.internetPort ?? 80,
    bridge: br,
    bridgedHopsFiltered: model.sysctl['net.bridge.bridge-nf-call-iptables'] === '1',
  };
}

export interface Probe {
  what: string;
  table: string;
  chain: string;
  packet: Packet;
  wanted: string;
  holds: (d: Decision) => boolean;
}

export interface Judged {
  probe: Probe;
  decision: Decision;
  holds: boolean;
}

const [first, second, third] = namespaces;
const SUBNET = rules.masquerade.source;
const subnet = parseCidr(SUBNET)!;
/** The subnet's last host address: the rule covers all of 10.0.0.0/16, not only the six in use. */
const LAST_HOST = formatIp(subnet.base + 2 ** (32 - subnet.prefix) - 2);
const masqueraded = (d: Decision) => d.target === 'MASQUERADE' || d.target === 'SNAT';
/** Proven not to get `target`: an undecidable walk proves nothing. */
const not = (target: string) => (d: Decision) => d.target !== target && d.target !== 'UNKNOWN';
/** Let through, by a rule or by the chain's policy. */
const accepted = (d: Decision) => d.target === 'ACCEPT';
const egressPacket = (o: Outside, src: string, out: string): Packet => ({ src, dst: o.internet, out, proto: 'tcp', dport: o.internetPort, ctstate: ['NEW'] });

/** `-s 10.0.0.0/16 ! -o br-app -j MASQUERADE`: every address of the subnet is rewritten leaving by the way out. */
export function masqueradeProbes(o: Outside, out = o.uplink): Probe[] {
  const { table, chain } = rules.masquerade;
  const sources = [...namespaces.map((n) => ({ name: n.name, ip: n.ip })), { name: `${SUBNET}'s last address`, ip: LAST_HOST }];
  return sources.map((n) => ({ what: `${n.name} ${n.ip} -> ${o.internet} out ${out}`, table, chain, packet: egressPacket(o, n.ip, out), wanted: 'MASQUERADE', holds: masqueraded }));
}

/** `-p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80`: tcp 8080 to the host goes to nginx-lb, nothing else does. */
export function dnatProbes(o: Outside): Probe[] {
  const { table, chain, proto, dport, to } = rules.dnat;
  const toHost = (p: Packet['proto'], port: number): Packet => ({ in: o.ifaces[0], src: o.client, dst: o.hostAddress, proto: p, dport: port, ctstate: ['NEW'], dstType: 'LOCAL' });
  const isDnat = (d: Decision) => d.target === 'DNAT' && optionOf(d.rule, '--to-destination') === to;
  return [
    { what: `tcp ${o.client} -> ${o.hostAddress}:${dport}`, table, chain, packet: toHost(proto, dport), wanted: `DNAT to ${to}`, holds: isDnat },
    { what: `tcp ${o.client} -> ${o.hostAddress}:${dport + 1}`, table, chain, packet: toHost(proto, dport + 1), wanted: 'not DNATed', holds: not('DNAT') },
    { what: `udp ${o.client} -> ${o.hostAddress}:${dport}`, table, chain, packet: toHost('udp', dport), wanted: 'not DNATed', holds: not('DNAT') },
  ];
}

/**
 * `-A FORWARD -p tcp -d 10.0.0.10 --dport 80 -j ACCEPT`, and the lab's own routed traffic: each is
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
      ? [
          probe(`${second.name} -> ${third.name} across ${o.bridge}`, { in: o.bridge, out: o.bridge, src: second.ip, dst: third.ip, proto: 'tcp', dport: third.port, ctstate: ['NEW'] }),
          probe(`${first.name} pings ${second.name} across ${o.bridge}`, { in: o.bridge, out: o.bridge, src: first.ip, dst: second.ip, proto: 'icmp', ctstate: ['NEW'] }),
        ]
      : []),
    // Egress where the grader sends it: its own way out (on a real host the probe's, not the real uplink a test guard may close).
    probe(`${third.name} -> ${o.internet} out ${up}`, { in: o.bridge, out: up, src: third.ip, dst: o.internet, proto: 'tcp', dport: o.internetPort, ctstate: ['NEW'] }),
    probe(`${o.internet} replies to ${third.name}`, { in: up, out: o.bridge, src: o.internet, dst: third.ip, proto: 'tcp', ctstate: ['ESTABLISHED'] }),
  ];
}

/** decide(), where a table iptables-save left out has no rules (the packet passes) and a walk that cannot finish proves nothing. */
export function walk(rs: Ruleset, table: string, chain: string, p: Packet): Decision {
  if (!rs.chains.has(`${table} ${chain}`)) return { target: 'ACCEPT', path: [chain] };
  try {
    return decide(rs, table, chain, p);
  } catch {
    return { target: 'UNKNOWN', path: [chain] };
  }
}

export function judge(rs: Ruleset, probes: Probe[]): Judged[] {
  return probes.map((probe) => {
    const decision = walk(rs, probe.table, probe.chain, probe.packet);
    return { probe, decision, holds: probe.holds(decision) };
  });
}

/** A judged probe that failed, in one line: what it is, what was wanted, what happened. */
export const failureLine = (j: Judged) => `${j.probe.table} ${j.probe.chain}: ${j.probe.what}: wanted ${j.probe.wanted}, got ${explain(j.decision)}`;

/** The probes the rule set fails, each with what it wanted and what happened instead; [] when all hold. */
export function failures(rs: Ruleset, probes: Probe[]): string[] {
  if (!probes.length) throw new Error('no probes: nothing would be checked');
  return judge(rs, probes)
    .filter((j) => !j.holds)
    .map(failureLine);
}

export type SeedRuleId = keyof typeof rules;

/** One of the seed's rules as the live host does it. */
export interface SeedRule {
  id: SeedRuleId;
  /** The rule as the seed means it. */
  wanted: string;
  holds: boolean;
  /** The packet that shows what the rule is for, and what happened to it. */
  main: Judged;
  /** Every packet it was held to. */
  judged: Judged[];
}

/** A reason a deliverable fails, from the rules (diagnose.ts turns it into a finding). */
export interface RuleFault {
  id: string;
  cause: string;
  fix: string;
  /** The seed rules it makes fail (1.4's verdict), and the paths it cuts (requirement keys of diagnose.ts). */
  rules: SeedRuleId[];
  cuts: ('egress' | 'dnat-path' | 'bridged-tcp' | 'bridged-icmp' | 'routing')[];
}

/** A difference from the seed's spelling that still does the seed's job, or advice beyond it. */
export interface RuleNote {
  id: string;
  text: string;
  deliverables: string[];
}

export interface Judgement {
  outside: Outside;
  /** Why the rules could not be read (an iptables-save the parser refuses); then nothing below judges them. */
  unreadable?: string;
  rules: Record<SeedRuleId, SeedRule>;
  faults: RuleFault[];
  deviations: RuleNote[];
  advice: RuleNote[];
}

const SEED_MASQUERADE = `sudo iptables -t nat -A ${rules.masquerade.chain} -s ${SUBNET} ! -o ${bridge.name} -j MASQUERADE`;
const SEED_DNAT = `sudo iptables -t nat -A ${rules.dnat.chain} -p ${rules.dnat.proto} --dport ${rules.dnat.dport} -j DNAT --to-destination ${rules.dnat.to}`;
const SEED_FORWARD = `-p ${rules.forward.proto} -d ${rules.forward.destination} --dport ${rules.forward.dport} -j ACCEPT`;

/** Does the rule's `-s` let `addr` through (no -s does). */
function fromSource(r: SavedRule, addr: string): boolean {
  const s = r.matches.find((o) => o.name === '-s');
  return !s || cidrHas(s.value, addr) !== s.negated;
}

/** Where a learner adds FORWARD accepts: DOCKER-USER on a Docker host (Docker rewrites FORWARD), else FORWARD. */
const acceptChain = (rs: Ruleset) => (rs.chains.has('filter DOCKER-USER') ? 'DOCKER-USER' : 'FORWARD');

function masqueradeFaults(rs: Ruleset, o: Outside, r: SeedRule): RuleFault[] {
  if (r.holds) return [];
  const d = r.main.decision;
  const product = r.main.probe.packet.src;
  if (d.target === 'UNKNOWN') {
    return [
      {
        id: 'masquerade-undecided',
        cause: `a rule ahead of any MASQUERADE tests what the grader cannot know (${explain(d)})`,
        fix: SEED_MASQUERADE.replace(' -A ', ' -I '),
        rules: ['masquerade'],
        cuts: ['egress'],
      },
    ];
  }
  if (!masqueraded(d)) {
    const nat = rs.rules.filter((x) => x.table === 'nat' && (x.target === 'MASQUERADE' || x.target === 'SNAT'));
    const forLab = nat.find((x) => fromSource(x, product));
    // A rule naming another network's interface (Docker's `-s 172.17.0.0/16 ! -o docker0`) is that network's, not an attempt at the lab's.
    const other = nat.find((x) => x.matches.some((m) => m.name === '-s') && x.matches.every((m) => m.name !== '-o' || m.value === o.bridge || m.value === o.uplink));
    // An earlier rule that decides (ACCEPT, RETURN) would shadow an appended one.
    const fix = d.rule ? SEED_MASQUERADE.replace(' -A ', ' -I ') : SEED_MASQUERADE;
    if (forLab)
      return [
        {
          id: 'masquerade-wrong-interface',
          cause: `\`${forLab.line}\` does not apply to ${product} leaving by ${o.uplink} (${explain(d)}): replies from outside cannot come back`,
          fix,
          rules: ['masquerade'],
          cuts: ['egress'],
        },
      ];
    if (other)
      return [
        {
          id: 'masquerade-wrong-subnet',
          cause: `the only MASQUERADE is for ${optionOf(other, '-s')} (\`${other.line}\`), not ${SUBNET}: ${product} leaves with its private address`,
          fix,
          rules: ['masquerade'],
          cuts: ['egress'],
        },
      ];
    return [
      {
        id: 'masquerade-missing',
        cause: `nothing masquerades ${SUBNET} leaving by ${o.uplink} (${explain(d)}): the outside cannot answer a private address`,
        fix,
        rules: ['masquerade'],
        cuts: ['egress'],
      },
    ];
  }
  const missed = r.judged.filter((j) => !j.holds).map((j) => j.probe.packet.src);
  return [
    {
      id: 'masquerade-wrong-subnet',
      cause: `\`${d.rule?.line ?? 'the MASQUERADE'}\` leaves ${missed.join(', ')} unmasqueraded: it does not cover all of ${SUBNET}`,
      fix: SEED_MASQUERADE,
      rules: ['masquerade'],
      cuts: [],
    },
  ];
}

function dnatFaults(rs: Ruleset, o: Outside, r: SeedRule): RuleFault[] {
  if (r.holds) return [];
  const { dport, to } = rules.dnat;
  const d = r.main.decision;
  if (r.main.holds) {
    const wide = r.judged.filter((j) => !j.holds);
    return [
      {
        id: 'dnat-too-broad',
        cause: `${wide.map((j) => j.probe.what).join(' and ')} ${wide.length > 1 ? 'are' : 'is'} DNATed too (\`${wide[0]!.decision.rule?.line}\`): the seed forwards tcp ${dport} only`,
        fix: SEED_DNAT,
        rules: ['dnat'],
        cuts: [],
      },
    ];
  }
  const [toIp, toPort] = to.split(':');
  if (d.target === 'DNAT') {
    const given = optionOf(d.rule, '--to-destination') ?? '';
    const m = /^([\d.]+)(?:-[\d.]+)?(?::(\d+))?/.exec(given);
    const gotIp = m?.[1];
    // The learner's own rule is deleted; one in someone else's chain (Docker's) is overtaken instead.
    const own = d.rule!.chain === rules.dnat.chain;
    const fix = own ? `sudo iptables -t nat ${d.rule!.line.replace(/^-A /, '-D ')} && ${SEED_DNAT}` : SEED_DNAT.replace(' -A ', ' -I ');
    const wrongAddress = gotIp !== toIp;
    return [
      {
        id: wrongAddress ? 'dnat-wrong-address' : 'dnat-wrong-port',
        cause: `tcp ${dport} is DNATed to ${given} (\`${d.rule!.line}\`), not ${to}: ${wrongAddress ? `${gotIp} is not nginx-lb` : `nginx listens on ${toPort}`}`,
        fix,
        rules: ['dnat'],
        cuts: ['dnat-path'],
      },
    ];
  }
  if (d.target === 'UNKNOWN') {
    return [
      { id: 'dnat-undecided', cause: `a rule ahead of any DNAT tests what the grader cannot know (${explain(d)})`, fix: SEED_DNAT.replace(' -A ', ' -I '), rules: ['dnat'], cuts: ['dnat-path'] },
    ];
  }
  const elsewhere = rs.rules.find((x) => x.table === 'nat' && x.target === 'DNAT' && optionOf(x, '--dport') === String(dport));
  return [
    {
      id: 'dnat-missing',
      cause: `tcp ${o.hostAddress}:${dport} from outside is not DNATed (${explain(d)})${elsewhere ? `; \`${elsewhere.line}\` does not apply to it` : ''}`,
      fix: SEED_DNAT,
      rules: ['dnat'],
      cuts: ['dnat-path'],
    },
  ];
}

function forwardFaults(rs: Ruleset, o: Outside, r: SeedRule): RuleFault[] {
  if (r.holds) return [];
  const chain = acceptChain(rs);
  const insert = (spec: string) => `sudo iptables -I ${chain} ${spec}`;
  const failed = (what: (j: Judged) => boolean) => r.judged.filter((j) => what(j) && !j.holds);
  const br = o.bridge;
  const out: RuleFault[] = [];
  const bridged = failed((j) => j.probe.packet.in === br && j.probe.packet.out === br);
  if (bridged.length) {
    const icmp = bridged.some((j) => j.probe.packet.proto === 'icmp');
    const tcp = bridged.some((j) => j.probe.packet.proto === 'tcp');
    out.push({
      id: 'forward-drops-bridged',
      cause: `net.bridge.bridge-nf-call-iptables is 1, so traffic across ${br} passes FORWARD, which does not let it through: ${explain(bridged[0]!.decision)}`,
      fix: insert(`-i ${br} -o ${br} -j ACCEPT`),
      rules: ['forward'],
      cuts: [...(tcp ? (['bridged-tcp'] as const) : []), ...(icmp ? (['bridged-icmp'] as const) : [])],
    });
  }
  const nginx = rules.forward.destination;
  // Not the bridged hops (nginx-lb pinging a neighbour is one): those are forward-drops-bridged's.
  const dnatIn = failed((j) => j.probe.packet.dst === nginx && j.probe.packet.out === br && j.probe.packet.in !== br);
  const dnatBack = failed((j) => j.probe.packet.src === nginx && j.probe.packet.in === br && j.probe.packet.out !== br);
  if (dnatIn.length || dnatBack.length) {
    out.push({
      id: 'forward-drops-dnat',
      cause: dnatIn.length
        ? `FORWARD does not let the DNATed request to ${nginx}:${rules.forward.dport} through: ${explain(dnatIn[0]!.decision)}`
        : `FORWARD drops nginx-lb's replies to the client: ${explain(dnatBack[0]!.decision)}`,
      fix: [...(dnatIn.length ? [insert(SEED_FORWARD)] : []), ...(dnatBack.length ? [insert(`-o ${o.ifaces[0]} -i ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)] : [])].join(' && '),
      rules: ['forward'],
      cuts: ['dnat-path'],
    });
  }
  const egressOut = failed((j) => j.probe.packet.dst === o.internet && j.probe.packet.out === o.ifaces[0]);
  const egressBack = failed((j) => j.probe.packet.src === o.internet && j.probe.packet.in === o.ifaces[0]);
  if (egressOut.length || egressBack.length) {
    out.push({
      id: 'forward-drops-egress',
      cause: egressOut.length
        ? `FORWARD does not let ${SUBNET} leave by ${o.ifaces[0]}: ${explain(egressOut[0]!.decision)}`
        : `FORWARD drops the outside's replies to ${SUBNET}: ${explain(egressBack[0]!.decision)}`,
      fix: [...(egressOut.length ? [insert(`-i ${br} ! -o ${br} -j ACCEPT`)] : []), ...(egressBack.length ? [insert(`-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)] : [])].join(
        ' && ',
      ),
      rules: ['forward'],
      cuts: ['egress'],
    });
  }
  return out;
}

function deviationsOf(rs: Ruleset, o: Outside, r: Record<SeedRuleId, SeedRule>): RuleNote[] {
  const out: RuleNote[] = [];
  const named = r.masquerade.main.decision.rule?.matches.find((m) => m.name === '-o' && !m.negated);
  if (r.masquerade.holds && named) {
    out.push({
      id: 'masquerade-names-uplink',
      text: `\`${r.masquerade.main.decision.rule!.line}\` names ${named.value}; the seed's \`! -o ${bridge.name}\` masquerades whichever interface leads out`,
      deliverables: ['1.3-internet', '1.4-nat-rules'],
    });
  }
  const inside = walk(rs, 'nat', 'POSTROUTING', egressPacket(o, second.ip, o.bridge));
  if (masqueraded(inside)) {
    out.push({
      id: 'masquerade-includes-bridge',
      text: `\`${inside.rule?.line}\` also rewrites traffic leaving by ${o.bridge}; the seed's \`! -o ${bridge.name}\` leaves it alone`,
      deliverables: ['1.4-nat-rules'],
    });
  }
  const forwarded = r.forward.main;
  if (forwarded.holds && !forwarded.decision.rule) {
    out.push({
      id: 'forward-by-policy',
      text: `no FORWARD rule accepts the DNATed traffic to ${rules.forward.destination}:${rules.forward.dport}: FORWARD's ACCEPT policy lets it through, which a Docker host's DROP would not (the seed's \`sudo iptables -A FORWARD ${SEED_FORWARD}\`)`,
      deliverables: ['1.4-nat-rules'],
    });
  }
  return out;
}

/**
 * What the seed does not ask for but a person may try: the host's own `curl localhost:8080` (and
 * a namespace calling the host on 8080) only reach nginx through an OUTPUT DNAT, which the seed's
 * PREROUTING-only rule does not give. Advice, never a failure.
 */
function adviceOf(rs: Ruleset, o: Outside): RuleNote[] {
  const local = walk(rs, 'nat', 'OUTPUT', { src: '127.0.0.1', dst: '127.0.0.1', proto: 'tcp', dport: rules.dnat.dport, ctstate: ['NEW'], dstType: 'LOCAL' });
  if (local.target === 'DNAT' || local.target === 'UNKNOWN') return [];
  return [
    {
      id: 'host-clients-not-forwarded',
      text: `the host's own \`curl localhost:${rules.dnat.dport}\` does not reach nginx: the DNAT is in PREROUTING only, as the seed writes it. For the host's own clients add \`sudo iptables -t nat -A OUTPUT -p tcp --dport ${rules.dnat.dport} -m addrtype --dst-type LOCAL -j DNAT --to-destination ${rules.dnat.to}\` and \`sudo sysctl -w net.ipv4.conf.${o.bridge}.route_localnet=1\`, with the guard route_localnet needs (CVE-2020-8558: else a namespace reaches the host's 127.0.0.1 services through ${o.bridge}): \`sudo iptables -I INPUT -i ${o.bridge} -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\``,
      deliverables: ['2.1-health-host', '2.2-products-host', '2.2-orders-host'],
    },
  ];
}

function seedRule(id: SeedRuleId, wanted: string, judged: Judged[]): SeedRule {
  return { id, wanted, holds: judged.every((j) => j.holds), main: judged[0]!, judged };
}

/** The judgement of the host's rules, from where the grader stands (`vantage`), or from the host's own uplink without one. */
export function judgeRules(model: HostModel, vantage?: Vantage): Judgement {
  const o = outsideOf(model, vantage);
  let rs: Ruleset;
  let unreadable: string | undefined;
  try {
    rs = parseSave(model.iptables.save);
  } catch (e) {
    unreadable = `iptables-save could not be read: ${(e as Error).message}`;
    rs = { rules: [], chains: new Map() };
  }
  const { masquerade: m, dnat: d, forward: f } = rules;
  const r: Record<SeedRuleId, SeedRule> = {
    masquerade: seedRule('masquerade', `${m.table} ${m.chain} -s ${m.source} ! -o ${o.bridge} → MASQUERADE`, judge(rs, masqueradeProbes(o))),
    dnat: seedRule('dnat', `${d.table} ${d.chain} ${d.proto} dport ${d.dport} → DNAT ${d.to}`, judge(rs, dnatProbes(o))),
    forward: seedRule('forward', `${f.table} ${f.chain} ${f.proto} -d ${f.destination} dport ${f.dport} → ACCEPT`, judge(rs, forwardProbes(o))),
  };
  // The product service's egress leads the masquerade's packets: the seed's 1.3 pings from there.
  const product = r.masquerade.judged.find((j) => j.probe.packet.src === third.ip)!;
  r.masquerade.main = product;
  const forward = model.sysctl['net.ipv4.ip_forward'];
  const routing: RuleFault[] =
    forward === '0'
      ? [
          {
            id: 'ip-forward-off',
            cause: `net.ipv4.ip_forward is 0: the host does not route between ${o.bridge} and the outside`,
            fix: 'sudo sysctl -w net.ipv4.ip_forward=1',
            rules: [],
            cuts: ['routing'],
          },
        ]
      : [];
  if (unreadable) return { outside: o, unreadable, rules: r, faults: routing, deviations: [], advice: [] };
  const fwd = forwardFaults(rs, o, r.forward);
  return {
    outside: o,
    rules: r,
    // Bridged drops take down pings between namespaces: before the NAT faults.
    faults: [
      ...routing,
      ...fwd.filter((x) => x.id === 'forward-drops-bridged'),
      ...masqueradeFaults(rs, o, r.masquerade),
      ...dnatFaults(rs, o, r.dnat),
      ...fwd.filter((x) => x.id !== 'forward-drops-bridged'),
    ],
    deviations: deviationsOf(rs, o, r),
    advice: adviceOf(rs, o),
  };
}

/** The rules' part of 1.4: each seed rule that does not hold, with the packets it failed. */
export function ruleFailures(j: Judgement): string[] {
  if (j.unreadable) return [j.unreadable];
  return Object.values(j.rules).flatMap((r) => r.judged.filter((x) => !x.holds).map(failureLine));
}
