/**
 * Traffic per (source, destination, protocol, port) from the namespaces' conntrack tables. Each
 * connection is counted once: in the table of the namespace it reached (after DNAT, its reply's
 * source), or in its sender's when it went to no namespace we read (the host, a container behind
 * Docker's DNAT, an outside address). The host's own table only says where a DNAT sent a
 * connection, so a client's request to host port 8080 is nginx-lb's, counted by nginx-lb.
 */
import type { ConntrackEntry } from './conntrack.ts';
import type { Endpoint, Pair, Proto, Snapshot, Volume } from './types.ts';

/** One namespace's table (`host` for the root namespace's). */
export interface Table {
  ns: string;
  entries: ConntrackEntry[];
}

/** Who owns an address, from the discovered host. */
export class Directory {
  readonly #byIp = new Map<string, string>();
  readonly #read: Set<string>;
  readonly #published: Map<number, string>;

  constructor(endpoints: Endpoint[], published: { hostPort: number; container: string }[] = []) {
    for (const e of endpoints) for (const ip of e.ips) if (!this.#byIp.has(ip)) this.#byIp.set(ip, e.id);
    this.#read = new Set(endpoints.filter((e) => e.kind === 'namespace').map((e) => e.id));
    this.#published = new Map(published.map((p) => [p.hostPort, `container:${p.container}`]));
  }

  /** The endpoint owning `ip`: a namespace, the host, or `external:IP`. */
  endpointOf(ip: string): string {
    if (ip.startsWith('127.')) return 'host';
    return this.#byIp.get(ip) ?? `external:${ip}`;
  }

  /** A namespace whose table is read: it counts what reaches it. */
  isRead(id: string): boolean {
    return this.#read.has(id);
  }

  /** The container Docker publishes on host port `port`, if any. */
  containerAt(port: number): string | undefined {
    return this.#published.get(port);
  }
}

/** Outside addresses named each on their own, the first ones seen; any further one is counted as OTHER_EXTERNAL. */
export const MAX_EXTERNAL = 32;
/** Where every outside address beyond MAX_EXTERNAL is counted: a scan or a crowd of clients is one endpoint, not one each. */
export const OTHER_EXTERNAL = 'external:others';
/**
 * Pairs kept with a port of their own. Beyond, a new pair is counted without its port, in one entry
 * per (from, to, protocol): the endpoints being bounded (the lab's namespaces, the host, its
 * containers, MAX_EXTERNAL + 1 outside ones), so is every pair kept.
 */
export const MAX_PAIRS = 256;

const pairKey = (p: { from: string; to: string; proto: Proto; port?: number }): string => `${p.from}>${p.to}|${p.proto}|${p.port ?? ''}`;
// Kept per entry: a table's entries are handed back unchanged from one read to the next (ConntrackTable).
const tupleKeys = new WeakMap<ConntrackEntry, string>();
function tupleKey(e: ConntrackEntry): string {
  let key = tupleKeys.get(e);
  if (key === undefined) tupleKeys.set(e, (key = `${e.proto}|${e.orig.src}|${e.orig.sport}|${e.orig.dst}|${e.orig.dport}`));
  return key;
}
const emptyVolume = (): Volume => ({ packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0 });
const volumeOf = (e: ConntrackEntry): Volume => ({ packetsOut: e.orig.packets, bytesOut: e.orig.bytes, packetsIn: e.reply.packets, bytesIn: e.reply.bytes });

interface Counted {
  from: string;
  to: string;
  proto: Proto;
  port?: number;
}

/** Where `e`, found in `table`, is counted; undefined when another table counts it. */
export function attribute(table: string, e: ConntrackEntry, dir: Directory, hostNat: Map<string, string>): Counted | undefined {
  const port = e.proto === 'tcp' || e.proto === 'udp' ? e.reply.sport : undefined;
  const from = dir.endpointOf(e.orig.src);
  const to = dir.endpointOf(e.reply.src);
  if (to === table) return { from, to, proto: e.proto, ...(port === undefined ? {} : { port }) };
  if (from !== table || dir.isRead(to)) return undefined;
  // Sent to an address that is no namespace of ours: the host's table says where its DNAT took it.
  const natTo = hostNat.get(tupleKey(e));
  if (natTo !== undefined && dir.isRead(dir.endpointOf(natTo))) return undefined;
  const container = natTo !== undefined && port !== undefined ? dir.containerAt(e.orig.dport) : undefined;
  return { from, to: container ?? (natTo !== undefined ? dir.endpointOf(natTo) : to), proto: e.proto, ...(port === undefined ? {} : { port }) };
}

/** A connection as last read in a table: where it was counted (null: in another table), and whether the host's table said where it went. */
interface Decided {
  entry: ConntrackEntry;
  counted: Counted | null;
  informed: boolean;
  /** Kept from the read before, which listed it, because this one did not. */
  missed?: boolean;
}

export interface Accounted {
  pairs: Pair[];
  protocols: Snapshot['protocols'];
  states: Record<string, number>;
}

/**
 * Running totals since the first sample. Conntrack keeps a connection's counters for its life
 * (and a closed TCP one for TIME_WAIT's two minutes), so each sample adds what every connection
 * carried since the last; one seen for the first time after the first sample was opened since.
 */
export class Accountant {
  /**
   * Each connection's entry in the last read, by table, then tuple, with where it was counted
   * (null: in another table). A connection keeps that for its life: the host's table, read while
   * the kernel changes it, can miss the DNAT entry that says where the connection went, which
   * would count its packets of that interval to the host instead (seen: half an order-service ->
   * PostgreSQL container pair's packets, in containers mode, under a burst). Decided without the
   * host's entry, it is decided again once that entry is read.
   */
  #conns = new Map<string, Map<string, Decided>>();
  readonly #pairs = new Map<string, Pair>();
  readonly #external = new Set<string>();
  #first = true;

  /** An outside endpoint by its own name while there is room for it, else OTHER_EXTERNAL. */
  #named(id: string): string {
    if (!id.startsWith('external:') || this.#external.has(id)) return id;
    if (this.#external.size >= MAX_EXTERNAL) return OTHER_EXTERNAL;
    this.#external.add(id);
    return id;
  }

  /** Where `c` is counted: its outside endpoints named or folded, its port dropped once MAX_PAIRS pairs are kept. */
  #pairOf(c: Counted): Pair {
    // Most entries are between the lab's own endpoints, of a pair already kept: found by one key.
    const named = c.from.startsWith('external:') || c.to.startsWith('external:') ? { ...c, from: this.#named(c.from), to: this.#named(c.to) } : c;
    const key = pairKey(named);
    const kept = this.#pairs.get(key);
    if (kept) return kept;
    const counted = this.#pairs.size < MAX_PAIRS ? named : { from: named.from, to: named.to, proto: named.proto };
    const k = counted === named ? key : pairKey(counted);
    let p = this.#pairs.get(k);
    if (!p) this.#pairs.set(k, (p = { ...counted, ...emptyVolume(), opened: 0, live: 0, rate: { opened: 0, packets: 0, bytes: 0 } }));
    return p;
  }

  account(tables: Table[], dir: Directory, seconds: number): Accounted {
    const hostNat = new Map<string, string>();
    for (const e of tables.find((t) => t.ns === 'host')?.entries ?? []) if (e.reply.src !== e.orig.dst) hostNat.set(tupleKey(e), e.reply.src);
    for (const p of this.#pairs.values()) {
      p.live = 0;
      p.rate = { opened: 0, packets: 0, bytes: 0 };
    }
    const seen = new Map<string, Map<string, Decided>>();
    const states: Record<string, number> = {};
    for (const t of tables) {
      if (t.ns === 'host') continue;
      const was = this.#conns.get(t.ns);
      const now = new Map<string, Decided>();
      seen.set(t.ns, now);
      for (const e of t.entries) {
        const key = tupleKey(e);
        const last = was?.get(key);
        // A counter that went back is the same tuple reused by a new connection.
        const reused = last !== undefined && (e.orig.packets < last.entry.orig.packets || e.reply.packets < last.entry.reply.packets);
        const before = reused ? undefined : last?.entry;
        const informed = hostNat.has(key);
        const c = last && !reused && (last.informed || !informed) ? last.counted : (attribute(t.ns, e, dir, hostNat) ?? null);
        now.set(key, { entry: e, counted: c, informed: informed || (last?.informed === true && !reused) });
        if (!c) continue;
        const p = this.#pairOf(c);
        p.live++;
        states[e.state] = (states[e.state] ?? 0) + 1;
        // The same entry as the last read's (its table's lines unchanged but for the timeout): nothing carried since.
        if (this.#first || before === e) continue;
        const fresh = !before;
        const d = fresh
          ? volumeOf(e)
          : {
              packetsOut: e.orig.packets - before.orig.packets,
              bytesOut: e.orig.bytes - before.orig.bytes,
              packetsIn: e.reply.packets - before.reply.packets,
              bytesIn: e.reply.bytes - before.reply.bytes,
            };
        p.packetsOut += d.packetsOut;
        p.bytesOut += d.bytesOut;
        p.packetsIn += d.packetsIn;
        p.bytesIn += d.bytesIn;
        if (fresh) p.opened++;
        p.rate.opened += fresh ? 1 / seconds : 0;
        p.rate.packets += (d.packetsOut + d.packetsIn) / seconds;
        p.rate.bytes += (d.bytesOut + d.bytesIn) / seconds;
      }
    }
    // An established connection cannot have expired between two reads (conntrack keeps it for
    // days, and a closing one stays listed in its closing state), so one missing from a read was
    // missed by it: /proc/net/nf_conntrack is read while the kernel changes the table. Kept once,
    // its packets since are counted when a read lists it again, not lost, and it is not taken for
    // a new connection then.
    for (const [ns, now] of seen) {
      for (const [key, last] of this.#conns.get(ns) ?? []) {
        if (!now.has(key) && !last.missed && last.entry.proto === 'tcp' && last.entry.state === 'ESTABLISHED') now.set(key, { ...last, missed: true });
      }
    }
    this.#conns = seen;
    this.#first = false;
    const pairs = [...this.#pairs.values()]
      .filter((p) => p.live > 0 || p.opened > 0 || p.packetsOut + p.packetsIn > 0)
      .map((p) => ({ ...p, rate: { ...p.rate } }))
      .sort((a, b) => b.rate.bytes - a.rate.bytes || b.bytesOut + b.bytesIn - (a.bytesOut + a.bytesIn) || pairKey(a).localeCompare(pairKey(b)));
    return { pairs, protocols: protocolMix(pairs), states };
  }
}

function protocolMix(pairs: Pair[]): Snapshot['protocols'] {
  const by = new Map<Proto, Snapshot['protocols'][number]>();
  for (const p of pairs) {
    let m = by.get(p.proto);
    if (!m) by.set(p.proto, (m = { proto: p.proto, live: 0, opened: 0, bytes: 0, rate: { bytes: 0 } }));
    m.live += p.live;
    m.opened += p.opened;
    m.bytes += p.bytesOut + p.bytesIn;
    m.rate.bytes += p.rate.bytes;
  }
  return (['tcp', 'udp', 'icmp', 'other'] as Proto[]).flatMap((p) => by.get(p) ?? []);
}

/**
 * What happened between two samples of the same observer, per pair: the counts of `after` minus
 * those of `before` (a pair `before` lacks counts from zero). `live` and `rate` are `after`'s.
 */
export function pairDelta(before: Snapshot, after: Snapshot): Pair[] {
  const was = new Map(before.pairs.map((p) => [pairKey(p), p]));
  return after.pairs.map((p) => {
    const b = was.get(pairKey(p));
    return {
      ...p,
      opened: p.opened - (b?.opened ?? 0),
      packetsOut: p.packetsOut - (b?.packetsOut ?? 0),
      bytesOut: p.bytesOut - (b?.bytesOut ?? 0),
      packetsIn: p.packetsIn - (b?.packetsIn ?? 0),
      bytesIn: p.bytesIn - (b?.bytesIn ?? 0),
    };
  });
}
