import { parseIptablesSave, parseRuleLine, type SavedLine, type Word } from '../net/iptables-save.ts';
import { contains, parseCidr, parseIp } from '../topology/ipv4.ts';

/**
 * `iptables-save` output (read by src/net/iptables-save.ts) as rules the walk understands, and a
 * walk through them for a described packet, so the suites recognise a rule by what it does to
 * traffic: not by our comment tags, not by one spelling (iptables-nft and legacy print matches
 * differently, with or without `-c` counters), and following jumps into user chains such as
 * Docker's DOCKER-USER.
 */

export interface RuleOption {
  /** As saved, with long forms folded to short ones: `-s`, `--dport`, `--ctstate`, ... */
  name: string;
  /** Its argument(s) joined by a space; '' for a flag such as `--syn`. */
  value: string;
  negated: boolean;
  /** The `-m` module it belongs to, if any. */
  module?: string;
}

export interface SavedRule {
  table: string;
  chain: string;
  matches: RuleOption[];
  /** '' for a rule that only counts. */
  target: string;
  /** `-g`: the chain is entered without a way back. */
  goto: boolean;
  targetOptions: RuleOption[];
  counters?: { packets: number; bytes: number };
  /** The rule as saved, without its counters. */
  line: string;
}

export interface Ruleset {
  rules: SavedRule[];
  /** `table chain` -> policy (ACCEPT, DROP) for built-in chains, '-' for user chains. */
  chains: Map<string, string>;
}

const LONG: Record<string, string> = {
  '--source': '-s',
  '--src': '-s',
  '--destination': '-d',
  '--dst': '-d',
  '--in-interface': '-i',
  '--out-interface': '-o',
  '--protocol': '-p',
  '--jump': '-j',
  '--goto': '-g',
  '--match': '-m',
};

/** Options with exactly one argument, so a stray word after them is an error, not part of the value. */
const SINGLE = new Set(['-s', '-d', '-i', '-o', '-p']);

const isOption = (t: Word | undefined) => !!t && !t.quoted && /^--?[A-Za-z]/.test(t.text);

/** One `-A CHAIN ...` line of table `table`, with or without its `[packets:bytes]` prefix. */
export function parseRule(table: string, line: string): SavedRule {
  return ruleOf(table, parseRuleLine(line));
}

/** What a saved line's words mean to the walk: its matches, its target and the target's options. */
function ruleOf(table: string, saved: SavedLine): SavedRule {
  const { chain, args: ts, counters, line } = saved;
  const rule: SavedRule = { table, chain, matches: [], target: '', goto: false, targetOptions: [], counters, line };
  let module: string | undefined;
  let inTarget = false;
  let negateNext = false;
  for (let i = 0; i < ts.length; ) {
    const t = ts[i]!;
    if (t.text === '!' && !t.quoted) {
      negateNext = true;
      i++;
      continue;
    }
    if (!isOption(t)) throw new Error(`unexpected "${t.text}" in: ${line}`);
    const name = LONG[t.text] ?? t.text;
    i++;
    if (name === '-j' || name === '-g') {
      rule.target = ts[i++]?.text ?? '';
      rule.goto = name === '-g';
      inTarget = true;
      module = undefined;
      continue;
    }
    if (name === '-m') {
      module = ts[i++]?.text;
      continue;
    }
    // Before 1.4.3 the negation followed the option: `-o ! br-app`.
    let negated = negateNext;
    negateNext = false;
    if (ts[i]?.text === '!' && !ts[i]!.quoted) {
      negated = true;
      i++;
    }
    const values: string[] = [];
    const more = () => i < ts.length && !isOption(ts[i]) && !(ts[i]!.text === '!' && !ts[i]!.quoted) && !(SINGLE.has(name) && values.length);
    while (more()) values.push(ts[i++]!.text);
    const opt: RuleOption = { name, value: values.join(' '), negated, ...(module && name.startsWith('--') ? { module } : {}) };
    (inTarget ? rule.targetOptions : rule.matches).push(opt);
  }
  return rule;
}

/** All tables of an `iptables-save [-c]` dump. */
export function parseSave(text: string): Ruleset {
  const rs: Ruleset = { rules: [], chains: new Map() };
  for (const t of parseIptablesSave(text)) {
    for (const c of t.chains) rs.chains.set(`${t.name} ${c.name}`, c.policy);
    for (const r of t.rules) rs.rules.push(ruleOf(t.name, r));
  }
  return rs;
}

/** The value of a rule's option (match or target), if it has it. */
export function optionOf(rule: SavedRule | undefined, name: string): string | undefined {
  return [...(rule?.matches ?? []), ...(rule?.targetOptions ?? [])].find((o) => o.name === name)?.value;
}

/** A packet as the walk sees it; whatever is left out makes a rule that tests it undecidable. */
export interface Packet {
  in?: string;
  out?: string;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp';
  dport?: number;
  /** conntrack states it has, e.g. ['NEW'], ['NEW', 'DNAT'], ['ESTABLISHED']. */
  ctstate?: string[];
  /** addrtype of the destination: LOCAL for an address of this host. */
  dstType?: string;
  /** The connection's original destination before a DNAT; without one, a packet that was not DNATed keeps dst and dport. */
  origDst?: string;
  origDport?: number;
}

/** Where the connection was first sent: known when given, or when the packet's ctstate says it was not DNATed. */
function original(p: Packet): { dst?: string; dport?: number } {
  const kept = p.ctstate !== undefined && !p.ctstate.includes('DNAT');
  return { dst: p.origDst ?? (kept ? p.dst : undefined), dport: p.origDport ?? (kept ? p.dport : undefined) };
}

type Match = 'yes' | 'no' | 'maybe';

const PROTOCOLS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp' };

function inCidr(spec: string, ip: string): boolean {
  const [base, mask] = spec.split('/');
  // iptables-save prints a prefix; old versions and hand-written rules may carry a dotted mask.
  const prefix = mask?.includes('.') ? [...(parseIp(mask) ?? 0).toString(2)].filter((b) => b === '1').length : mask;
  const net = parseCidr(prefix === undefined ? base! : `${base}/${prefix}`);
  const addr = parseIp(ip);
  if (!net || addr === undefined) throw new Error(`not an IPv4 address or network: ${spec} / ${ip}`);
  return contains(net, addr);
}

function ifaceIs(spec: string, name: string): boolean {
  return spec.endsWith('+') ? name.startsWith(spec.slice(0, -1)) : name === spec;
}

function inPorts(spec: string, port: number): boolean {
  return spec.split(',').some((part) => {
    const [lo, hi] = part.split(':');
    return port >= Number(lo || 0) && port <= Number(hi === undefined ? lo : hi || 65535);
  });
}

function test(o: RuleOption, p: Packet): Match {
  const known = (v: boolean | undefined): Match => (v === undefined ? 'maybe' : v !== o.negated ? 'yes' : 'no');
  switch (o.name) {
    case '-s':
      return known(inCidr(o.value, p.src));
    case '-d':
      return known(inCidr(o.value, p.dst));
    case '-i':
      return known(p.in === undefined ? undefined : ifaceIs(o.value, p.in));
    case '-o':
      return known(p.out === undefined ? undefined : ifaceIs(o.value, p.out));
    case '-p':
      return known(o.value === 'all' || o.value === '0' || (PROTOCOLS[o.value] ?? o.value) === p.proto);
    case '--dport':
    case '--dports':
    case '--destination-port':
    case '--destination-ports':
      return known(p.dport === undefined ? undefined : inPorts(o.value, p.dport));
    case '--ctstate':
    case '--state':
      return known(p.ctstate === undefined ? undefined : o.value.split(',').some((s) => p.ctstate!.includes(s)));
    case '--dst-type':
      return known(p.dstType === undefined ? undefined : o.value.split(',').includes(p.dstType));
    case '--ctorigdst': {
      const dst = original(p).dst;
      return known(dst === undefined ? undefined : inCidr(o.value, dst));
    }
    case '--ctorigdstport': {
      const dport = original(p).dport;
      return known(dport === undefined ? undefined : inPorts(o.value, dport));
    }
    case '--comment':
      return 'yes';
    default:
      return 'maybe';
  }
}

/** Does the rule apply to the packet: yes, no, or maybe when it tests something the packet leaves out. */
function matches(rule: SavedRule, p: Packet): Match {
  const results = rule.matches.map((o) => test(o, p));
  if (results.includes('no')) return 'no';
  return results.includes('maybe') ? 'maybe' : 'yes';
}

/** Targets that act and let the packet go on to the next rule. */
const CONTINUES = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'TRACE', 'CT', 'CLASSIFY', 'TOS', 'DSCP', 'TTL', 'AUDIT', 'SET', 'CHECKSUM', 'TCPMSS']);

export interface Decision {
  /** ACCEPT, DROP, REJECT, MASQUERADE, DNAT, ...; UNKNOWN when a rule it cannot decide stands in the way. */
  target: string;
  /** The rule that decided; none when the chain's policy did. */
  rule?: SavedRule;
  /** The chains walked to reach it, FORWARD > DOCKER-USER. */
  path: string[];
}

type Walk = { end: 'return' } | { end: 'decided'; target: string; rule: SavedRule; path: string[] };

/**
 * What table `table`'s built-in chain `chain` does with the packet: the first terminating
 * target of a rule that surely matches, following jumps and gotos into user chains and
 * returning from them, else the chain's policy. A rule that may match (it tests something
 * the packet does not say) and would decide or jump makes the answer UNKNOWN: the walk
 * proves an outcome or says it cannot.
 */
export function decide(rs: Ruleset, table: string, chain: string, p: Packet): Decision {
  const walk = (name: string, path: string[]): Walk | Decision => {
    if (path.length > 32) throw new Error(`jump loop through ${path.join(' > ')}`);
    const here = [...path, name];
    for (const r of rs.rules.filter((x) => x.table === table && x.chain === name)) {
      const m = matches(r, p);
      if (m === 'no' || !r.target || CONTINUES.has(r.target)) continue;
      if (m === 'maybe') return { target: 'UNKNOWN', rule: r, path: here };
      if (r.target === 'RETURN') return { end: 'return' };
      if (rs.chains.get(`${table} ${r.target}`) === '-') {
        const inner = walk(r.target, here);
        // Decided inside, or a goto whose chain ran out: either way this chain is done too.
        if (!('end' in inner) || inner.end === 'decided' || r.goto) return inner;
        continue;
      }
      return { end: 'decided', target: r.target, rule: r, path: here };
    }
    return { end: 'return' };
  };
  const policy = rs.chains.get(`${table} ${chain}`);
  if (!policy || policy === '-') throw new Error(`${table} has no built-in chain ${chain}`);
  const w = walk(chain, []);
  if (!('end' in w)) return w;
  return w.end === 'decided' ? { target: w.target, rule: w.rule, path: w.path } : { target: policy, path: [chain] };
}

/** A decision as one line for assertion messages. */
export function explain(d: Decision): string {
  return `${d.target} ${d.rule ? `by ${d.rule.table} \`${d.rule.line}\`` : 'by the policy'} (${d.path.join(' > ')})`;
}
