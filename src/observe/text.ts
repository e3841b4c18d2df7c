/** A snapshot as the terminal shows it (`ecomnet observe --once`, `--watch`): the page's tables, same numbers. */
import { table } from '../util/text.ts';
import { arcsOf, carriedTraffic, declarationOf, healthState, otherHosts, protoLabel, undrawnCount } from './page/arcs.js';
import { humanBytes } from './page/units.js';
import type { PacketRates, Snapshot } from './types.ts';

export const humanRate = (perSecond: number): string => `${humanBytes(perSecond)}/s`;

const ratesText = (r: PacketRates): string => `rx ${humanRate(r.rxBytes)} ${r.rxPackets.toFixed(1)} pkt/s, tx ${humanRate(r.txBytes)} ${r.txPackets.toFixed(1)} pkt/s`;

/** One line per VXLAN to the other host: the overlay edge with its rates, its underlay's, who is across it. */
export function overlayLines(s: Snapshot): string[] {
  return otherHosts(s).map(({ overlay: o, title, label, remote }) =>
    [
      `overlay: ${label} on ${o.bridge} to ${title}: ${ratesText(o.rate)}`,
      o.underlay ? `underlay ${o.underlay.name}: ${ratesText(o.underlay.rate)}` : `underlay ${o.dev ?? '?'}: not read`,
      `across it: ${remote.length ? remote.join(', ') : 'no traffic yet'} (health not probed there: only whether this host reaches it)`,
    ].join(' · '),
  );
}

export function snapshotText(s: Snapshot, topPairs = 15): string {
  const health = table([
    ['SERVICE', 'PROTOCOL', 'ADDRESS', 'STATE', 'LATENCY', 'SINCE', 'DETAIL'],
    ...s.health.map((h) => [
      h.name,
      h.protocol,
      h.address,
      h.healthy || h.across ? healthState(h) : 'DOWN',
      h.latencyMs === undefined ? '-' : `${h.latencyMs.toFixed(1)} ms`,
      h.since.slice(11, 19),
      h.detail,
    ]),
  ]);
  // The page's rule: the pairs that carried traffic (the undeclared said), then the declared flows that carried none yet.
  const arcs = arcsOf(s);
  const carried = s.pairs.filter(carriedTraffic);
  const idleFlows = arcs.filter((a) => a.state === 'declared-idle');
  const pairs = table([
    ['FROM', 'TO', 'PROTO', 'LIVE', 'OPENED', 'PKTS OUT/IN', 'BYTES OUT/IN', 'NOW', 'POLICY'],
    ...carried
      .slice(0, topPairs)
      .map((p) => [
        p.from,
        p.to,
        protoLabel(p),
        String(p.live),
        String(p.opened),
        `${p.packetsOut}/${p.packetsIn}`,
        `${humanBytes(p.bytesOut)}/${humanBytes(p.bytesIn)}`,
        `${humanRate(p.rate.bytes)} ${p.rate.packets.toFixed(1)} pkt/s`,
        declarationOf(s, p) ? 'declared' : 'UNDECLARED',
      ]),
    ...idleFlows.map((a) => [a.from, a.to, a.protos.join(','), '-', '-', '-', '-', 'idle', 'declared, idle']),
  ]);
  const undrawn = undrawnCount(s, arcs);
  const protocols = table([
    ['PROTOCOL', 'LIVE', 'OPENED', 'BYTES', 'NOW'],
    ...s.protocols.map((p) => [p.proto.toUpperCase(), String(p.live), String(p.opened), humanBytes(p.bytes), humanRate(p.rate.bytes)]),
  ]);
  const states = table([
    ['STATE', 'CONNECTIONS'],
    ...Object.entries(s.states)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, String(v)]),
  ]);
  const interfaces = table([
    ['NAMESPACE', 'INTERFACE', 'RX NOW', 'TX NOW', 'RX', 'TX', 'DROPS', 'ERRORS'],
    ...s.interfaces
      .filter((i) => i.namespace !== 'host' || /^(veth|br-)/.test(i.name))
      .map((i) => [
        i.namespace,
        i.name,
        humanRate(i.rate.rxBytes),
        humanRate(i.rate.txBytes),
        humanBytes(i.rxBytes),
        humanBytes(i.txBytes),
        String(i.rxDropped + i.txDropped),
        String(i.rxErrors + i.txErrors),
      ]),
  ]);
  const down = s.endpoints.filter((e) => e.kind === 'namespace' && !e.up).map((e) => e.id);
  return [
    `ecomnet observe · sample ${s.seq} at ${s.at} · observer ${s.observer.cpuPercent.toFixed(1)}% of a core, ${s.observer.sampleMs.toFixed(0)} ms a sample`,
    ...(down.length ? [`links down: ${down.join(', ')}`] : []),
    ...overlayLines(s),
    ...s.notes.map((n) => `note: ${n}`),
    '',
    'HEALTH',
    health,
    '',
    `TRAFFIC since the observer started (top ${Math.min(topPairs, carried.length)} of ${carried.length} pairs that carried traffic, busiest now first; ${idleFlows.length} declared flows idle)`,
    carried.length + idleFlows.length ? pairs : '(none yet)',
    ...(undrawn ? [`${undrawn} pairs with connections open and nothing counted, not listed`] : []),
    '',
    protocols,
    '',
    states,
    '',
    interfaces,
  ].join('\n');
}
