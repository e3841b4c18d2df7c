/**
 * The kernel's own accounts, parsed: a namespace's connection tracking table
 * (/proc/net/nf_conntrack) and its interface counters (/proc/net/dev). Pure: text in, records out.
 */
import type { InterfaceCounters, Proto } from './types.ts';

/** One direction of a tracked connection: its addresses, ports and (with accounting on) counters. */
export interface Tuple {
  src: string;
  dst: string;
  /** TCP/UDP ports; ICMP's id in `sport`, its type in `dport`. */
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

export interface ConntrackEntry {
  proto: Proto;
  /** TCP's state (ESTABLISHED, TIME_WAIT, ...); the protocol's name in capitals for the others. */
  state: string;
  /** As the first packet left its sender. */
  orig: Tuple;
  /** The answer's direction: `reply.src` is where the connection really went, after any DNAT. */
  reply: Tuple;
}

const PROTOS: Record<string, Proto> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp' };

/** The value of ` KEY=` (key given with its space and `=`) between `from` and `to`, or undefined. */
function field(line: string, key: string, from: number, to: number): string | undefined {
  const at = line.indexOf(key, from);
  if (at < 0 || at >= to) return undefined;
  const start = at + key.length;
  const space = line.indexOf(' ', start);
  return line.slice(start, space < 0 || space > to ? to : space);
}

/** One direction, written from ` src=` at `from` up to `to`; ICMP's id and type stand in for the ports. */
function tuple(line: string, from: number, to: number): Tuple {
  const n = (key: string) => Number(field(line, key, from, to) ?? 0);
  const port = (key: string, otherwise: string) => Number(field(line, key, from, to) ?? field(line, otherwise, from, to) ?? 0);
  return {
    src: field(line, ' src=', from, to) ?? '',
    dst: field(line, ' dst=', from, to) ?? '',
    sport: port(' sport=', ' id='),
    dport: port(' dport=', ' type='),
    packets: n(' packets='),
    bytes: n(' bytes='),
  };
}

/**
 * `ipv4 2 tcp 6 431999 ESTABLISHED src=.. dst=.. sport=.. dport=.. [packets=.. bytes=..] src=.. ...`:
 * the first `src=` opens the original direction, the second the reply. IPv6 is skipped (the lab is IPv4).
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  return text.split('\n').flatMap((line) => parseLine(line) ?? []);
}

/** One line's entry; fields are found by position rather than by splitting every word. */
function parseLine(line: string): ConntrackEntry | undefined {
  if (!line.startsWith('ipv4 ')) return undefined;
  const orig = line.indexOf(' src=');
  const reply = orig < 0 ? -1 : line.indexOf(' src=', orig + 1);
  if (reply < 0) return undefined;
  const third = line.indexOf(' src=', reply + 1);
  const head = line.slice(0, orig).split(' ').filter(Boolean);
  if (head.length < 5) return undefined;
  const proto = PROTOS[head[2]!] ?? 'other';
  // TCP's state is the word after the timeout; the other protocols have none.
  const named = head[5];
  const state = proto === 'tcp' && named && /^[A-Z_]+$/.test(named) ? named : (proto === 'other' ? (head[2] ?? 'OTHER') : proto).toUpperCase();
  return { proto, state, orig: tuple(line, orig, reply), reply: tuple(line, reply, third < 0 ? line.length : third) };
}

/** A line cut around its timeout (the fifth word, counting down every second): what comes before it and after it. */
function aroundTimeout(line: string): { head: string; rest: string } | undefined {
  if (!line.startsWith('ipv4 ')) return undefined;
  let at = 0;
  for (let word = 0; word < 4; word++) {
    at = line.indexOf(' ', at);
    if (at < 0) return undefined;
    while (line.charCodeAt(at) === 32) at++;
  }
  const end = line.indexOf(' ', at);
  return end < 0 ? undefined : { head: line.slice(0, at), rest: line.slice(end) };
}

/** How far ahead in the previous read a line is looked for: past that many entries gone since. */
const RESYNC = 8;

/**
 * One namespace's table, read again every sample: most of its lines are the same connections with
 * the same counters, only their timeout lower (thousands in TIME_WAIT after a load), and the kernel
 * lists them in the same order (its hash table's). So each line is compared with the previous
 * read's next few, and one equal to them but for the timeout gives back that read's entry instead
 * of being parsed: no hashing of every line, and any line not found is parsed, so the entries are
 * always parseConntrack's.
 */
export class ConntrackTable {
  #previous: { head: string; rest: string; entry: ConntrackEntry }[] = [];

  parse(text: string): ConntrackEntry[] {
    const was = this.#previous;
    const current: typeof was = [];
    let next = 0;
    for (const line of text.split('\n')) {
      const cut = aroundTimeout(line);
      if (!cut) continue;
      let entry: ConntrackEntry | undefined;
      for (let i = next; i < Math.min(next + RESYNC, was.length); i++) {
        if (was[i]!.rest === cut.rest && was[i]!.head === cut.head) {
          entry = was[i]!.entry;
          next = i + 1;
          break;
        }
      }
      entry ??= parseLine(line);
      if (entry) current.push({ ...cut, entry });
    }
    this.#previous = current;
    return current.map((c) => c.entry);
  }
}

/** An interface's counters as /proc/net/dev gives them (the snapshot adds where it is and its rates). */
export type NetDev = Omit<InterfaceCounters, 'namespace' | 'rate'>;

/** /proc/net/dev: two header lines, then `name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop ...`. */
export function parseNetDev(text: string): NetDev[] {
  const out: NetDev[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (v.length < 16 || v.some((x) => !Number.isFinite(x))) continue;
    out.push({ name: line.slice(0, colon).trim(), rxBytes: v[0]!, rxPackets: v[1]!, rxErrors: v[2]!, rxDropped: v[3]!, txBytes: v[8]!, txPackets: v[9]!, txErrors: v[10]!, txDropped: v[11]! });
  }
  return out;
}

/** `grep -H '' FILE...` output lines (`FILE:LINE`) gathered into each file's text. */
export function grepByFile(lines: Iterable<string>): Map<string, string> {
  const files = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon);
    let kept = files.get(file);
    if (!kept) files.set(file, (kept = []));
    kept.push(line.slice(colon + 1));
  }
  return new Map([...files].map(([f, l]) => [f, l.join('\n')]));
}
