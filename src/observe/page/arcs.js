/**
 * Which pairs the observer draws, one rule for the page and the terminal (src/observe/text.ts
 * imports this file as the page loads it): each pair that carried traffic since the observer
 * started, marked when the topology does not declare it (that is news), and each declared flow,
 * drawn even before it carries anything. A pair that only holds connections open with nothing
 * counted (kept alive from before the observer, a baseline) is none of these.
 */

/** @typedef {import('../types.ts').Snapshot} Snapshot */
/** @typedef {import('../types.ts').Pair} Pair */
/** @typedef {import('../types.ts').DeclaredPair} DeclaredPair */

/**
 * The pairs of one (from, to), summed over protocols and ports.
 * @typedef {{ from: string; to: string; bytes: number; rate: { bytes: number; packets: number; opened: number }; protos: string[] }} Edge
 */

/**
 * An edge drawn: `declared` carried traffic the topology declares; `undeclared` carried some it
 * does not (those protocols and ports listed); `declared-idle` is a declared flow that has carried nothing yet.
 * @typedef {Edge & { state: 'declared' | 'undeclared' | 'declared-idle'; undeclared: string[]; why: string[] }} Arc
 */

/** @param {Pair} p */
export const carriedTraffic = (p) => p.packetsOut + p.packetsIn > 0;

/** @param {{ proto: string; port?: number }} p */
export const protoLabel = (p) => (p.port === undefined ? p.proto : `${p.proto}/${p.port}`);

/**
 * @param {DeclaredPair} d
 * @param {Pair} p
 */
const covers = (d, p) => (d.from === '*' || d.from === p.from) && (d.to === '*' || d.to === p.to) && (d.proto === undefined || d.proto === p.proto) && (d.port === undefined || d.port === p.port);

/**
 * What declares `p`; undefined for traffic the topology does not declare. A namespace reaching
 * itself is its own loopback, which the policy always lets through.
 * @param {Snapshot} s
 * @param {Pair} p
 * @returns {DeclaredPair | undefined}
 */
export function declarationOf(s, p) {
  if (p.from === p.to) return { from: p.from, to: p.to, why: 'loopback' };
  return declaredIn(s).flows.find((d) => covers(d, p)) ?? declaredIn(s).allowed.find((d) => covers(d, p));
}

/**
 * The newest sample says what the topology declares; an older one of the history does not, and is never drawn.
 * @param {Snapshot} s
 */
const declaredIn = (s) => s.declared ?? { flows: [], allowed: [] };

/**
 * @param {Pair[]} pairs
 * @returns {Edge[]}
 */
export function edgesOf(pairs) {
  /** @type {Map<string, Edge>} */
  const edges = new Map();
  for (const p of pairs) {
    const key = `${p.from}>${p.to}`;
    const e = edges.get(key) ?? { from: p.from, to: p.to, bytes: 0, rate: { bytes: 0, packets: 0, opened: 0 }, protos: [] };
    e.bytes += p.bytesOut + p.bytesIn;
    e.rate.bytes += p.rate.bytes;
    e.rate.packets += p.rate.packets;
    e.rate.opened += p.rate.opened;
    e.protos.push(protoLabel(p));
    edges.set(key, e);
  }
  return [...edges.values()];
}

/**
 * The arcs of a sample: the edges of the pairs that carried traffic, then each declared flow
 * between two endpoints of the sample that carried none.
 * @param {Snapshot} s
 * @returns {Arc[]}
 */
export function arcsOf(s) {
  const carried = s.pairs.filter(carriedTraffic);
  /** @type {Arc[]} */
  const arcs = edgesOf(carried).map((e) => {
    const undeclared = carried.filter((p) => p.from === e.from && p.to === e.to && !declarationOf(s, p)).map(protoLabel);
    return { ...e, state: undeclared.length ? 'undeclared' : 'declared', undeclared, why: [] };
  });
  const present = new Set(s.endpoints.map((e) => e.id));
  for (const d of declaredIn(s).flows) {
    if (!present.has(d.from) || !present.has(d.to)) continue;
    const arc = arcs.find((a) => a.from === d.from && a.to === d.to);
    if (arc) arc.why.push(d.why);
    else
      arcs.push({
        from: d.from,
        to: d.to,
        bytes: 0,
        rate: { bytes: 0, packets: 0, opened: 0 },
        protos: [protoLabel({ proto: d.proto ?? 'tcp', port: d.port })],
        state: 'declared-idle',
        undeclared: [],
        why: [d.why],
      });
  }
  return arcs;
}

/**
 * How many pairs hold connections open, have carried nothing and are on no arc: counted, neither drawn nor listed.
 * @param {Snapshot} s
 * @param {Arc[]} arcs
 */
export const undrawnCount = (s, arcs) => s.pairs.filter((p) => !carriedTraffic(p) && !arcs.some((a) => a.from === p.from && a.to === p.to)).length;

/** @typedef {import('../types.ts').Overlay} Overlay */

/**
 * The other host of a two-host build, as this host sees it: per VXLAN on the lab's bridge, a box
 * titled by its remote underlay address holding the remote endpoints seen across it, the overlay
 * edge's label (VNI, UDP port) and the pairs that cross it. Empty on a host without one.
 * @param {Snapshot} s
 * @returns {{ overlay: Overlay; title: string; label: string; remote: string[]; crossing: Edge[] }[]}
 */
export function otherHosts(s) {
  return (s.overlay ?? []).map((o) => {
    const remote = s.endpoints.filter((e) => e.kind === 'remote' && e.across === o.name).map((e) => e.id);
    const across = new Set(remote);
    return {
      overlay: o,
      title: `the other host (remote ${o.remote ?? 'unknown'})`,
      label: `${o.name} · VNI ${o.vni ?? '?'} · UDP ${o.port ?? '?'}`,
      remote,
      crossing: edgesOf(s.pairs.filter((p) => carriedTraffic(p) && (across.has(p.from) || across.has(p.to)))),
    };
  });
}

/**
 * What a service's health row says: `healthy`, `down`, or, for one on the other host that did not
 * answer from here, that it is not reached (its health is not claimed).
 * @param {import('../types.ts').Health} h
 */
export const healthState = (h) => (h.healthy ? 'healthy' : h.across ? `not reached across ${h.across}` : 'down');
