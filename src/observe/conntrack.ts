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

function tuple(fields: Map<string, string>): Tuple {
  const n = (k: string) => Number(fields.get(k) ?? 0);
  return {
    src: fields.get('src') ?? '',
    dst: fields.get('dst') ?? '',
    sport: fields.has('sport') ? n('sport') : n('id'),
    dport: fields.has('dport') ? n('dport') : n('type'),
    packets: n('packets'),
    bytes: n('bytes'),
  };
}

/**
 * `ipv4 2 tcp 6 431999 ESTABLISHED src=.. dst=.. sport=.. dport=.. [packets=.. bytes=..] src=.. ...`:
 * the first `src=` opens the original direction, the second the reply. IPv6 is skipped (the lab is IPv4).
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'ipv4' || words.length < 6) continue;
    const proto = PROTOS[words[2]!] ?? 'other';
    const dirs: Map<string, string>[] = [];
    let state = proto === 'other' ? (words[2] ?? 'OTHER').toUpperCase() : proto.toUpperCase();
    for (const w of words.slice(5)) {
      const eq = w.indexOf('=');
      if (eq < 0) {
        if (proto === 'tcp' && dirs.length === 0 && /^[A-Z_]+$/.test(w)) state = w;
        continue;
      }
      const key = w.slice(0, eq);
      if (key === 'src') {
        if (dirs.length === 2) break;
        dirs.push(new Map());
      }
      dirs.at(-1)?.set(key, w.slice(eq + 1));
    }
    if (dirs.length !== 2) continue;
    out.push({ proto, state, orig: tuple(dirs[0]!), reply: tuple(dirs[1]!) });
  }
  return out;
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

/** `grep -H '' FILE...` output cut back into each file's text. */
export function splitByFile(output: string): Map<string, string> {
  const files = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon);
    let lines = files.get(file);
    if (!lines) files.set(file, (lines = []));
    lines.push(line.slice(colon + 1));
  }
  return new Map([...files].map(([f, l]) => [f, l.join('\n')]));
}
