/**
 * The traffic deliverable as data: which pairs a request through host port 8080 crosses (the
 * topology's flows, led by the external client), and the table and per-second series of what
 * the observer counted on each during a burst. Pure: the suite gives it the observer's deltas.
 */
import { nodeOf } from '../topology/default.ts';
import type { Pair } from '../observe/types.ts';
import { serviceAddress } from '../plan/policy.ts';
import type { DataMode, Topology } from '../topology/types.ts';
import type { TrafficBurst, TrafficCapture, TrafficRow } from './types.ts';

/** A pair the burst must cross, as the observer names it (destination after DNAT). */
export interface PathPair {
  from: string;
  to: string;
  proto: 'tcp';
  port: number;
  why: string;
}

/**
 * The request path: the external client to nginx (the port forward's target), then each of the
 * topology's flows (which list exactly the connections the platform makes) to where its
 * destination's service answers in this data mode. A namespace's own address is its name; any
 * other (the data layer published on the bridge address in containers mode) is named by
 * `endpointOf`, from what the observer saw: the host, or the container Docker sends it to.
 */
export function requestPath(t: Topology, data: DataMode, endpointOf: (from: string, ip: string, port: number) => string | undefined): PathPair[] {
  const client = nodeOf('client', t);
  const forward = t.portForwards[0]!;
  const nodes = t.app.nodes;
  const first: PathPair = { from: client.name, to: forward.node, proto: 'tcp', port: forward.port, why: `the burst, sent to host port ${forward.hostPort} and DNATed` };
  if (!t.flows) throw new Error(`topology ${t.tag} declares no flows: the request path is not known`);
  // A flow to another port than the destination's service (a seed command's) carries no request.
  const service = t.flows.filter((f) => f.port === undefined || f.port === nodes.find((n) => n.name === f.to)?.port);
  const flows = service.map((f): PathPair => {
    const dest = nodes.find((n) => n.name === f.to)!;
    const at = serviceAddress(t, dest, data)!;
    return { from: f.from, to: at.host === dest.ip ? dest.name : (endpointOf(f.from, at.host, at.port) ?? `external:${at.host}`), proto: 'tcp', port: at.port, why: f.why };
  });
  return [first, ...flows];
}

/** Every ordered pair among `names` that the path does not use: they must carry nothing during the burst. */
export function offPathPairs(names: string[], path: PathPair[]): { from: string; to: string }[] {
  return names.flatMap((from) => names.filter((to) => to !== from && !path.some((p) => p.from === from && p.to === to)).map((to) => ({ from, to })));
}

export const pairLabel = (p: { from: string; to: string; port?: number }) => `${p.from} → ${p.to}${p.port === undefined ? '' : ` :${p.port}`}`;

const onPair = (p: PathPair) => (x: Pair) => x.from === p.from && x.to === p.to && x.proto === p.proto && x.port === p.port;

function sum(pairs: Pair[]): Omit<TrafficRow, 'from' | 'to' | 'onPath'> {
  const total = (k: 'opened' | 'packetsOut' | 'bytesOut' | 'packetsIn' | 'bytesIn') => pairs.reduce((a, p) => a + p[k], 0);
  return { opened: total('opened'), packetsOut: total('packetsOut'), bytesOut: total('bytesOut'), packetsIn: total('packetsIn'), bytesIn: total('bytesIn') };
}

/** One step of the observer's history: the pairs' counts between two consecutive samples. */
export interface TrafficStep {
  /** When the later sample was taken. */
  at: string;
  seconds: number;
  delta: Pair[];
}

export interface CaptureInput {
  data: DataMode;
  burst: TrafficBurst;
  path: PathPair[];
  /** The namespaces whose every other pairing must stay silent (the six app namespaces and the client). */
  names: string[];
  /** The pairs' counts over the whole burst: pairDelta(before, after). */
  delta: Pair[];
  steps: TrafficStep[];
}

export function trafficCapture(c: CaptureInput): TrafficCapture {
  const pathRows = c.path.map((p): TrafficRow => ({ from: p.from, to: p.to, proto: p.proto, port: p.port, onPath: true, why: p.why, ...sum(c.delta.filter(onPair(p))) }));
  const offRows = offPathPairs(c.names, c.path).map((o): TrafficRow => ({ ...o, onPath: false, ...sum(c.delta.filter((x) => x.from === o.from && x.to === o.to)) }));
  const start = Date.parse(c.burst.startedAt);
  const series = {
    t: c.steps.map((s) => Math.round((Date.parse(s.at) - start) / 100) / 10),
    lines: c.path.map((p) => ({
      pair: pairLabel(p),
      bytesPerSecond: c.steps.map((s) => {
        const v = sum(s.delta.filter(onPair(p)));
        return s.seconds > 0 ? Math.round((v.bytesOut + v.bytesIn) / s.seconds) : 0;
      }),
    })),
  };
  const requests = c.burst.requests.reduce((a, r) => a + r.count, 0);
  const noisy = offRows.filter((r) => r.opened + r.packetsOut + r.packetsIn > 0).length;
  const summary = `${requests} requests (${c.burst.requests.map((r) => `${r.count} ${r.method} ${r.path}`).join(', ')}) from ${c.burst.from} to ${c.burst.target}: ${pathRows.filter((r) => r.packetsOut > 0).length}/${pathRows.length} path pairs carried traffic, ${noisy}/${offRows.length} off-path pairs did`;
  return { data: c.data, burst: c.burst, rows: [...pathRows, ...offRows], series, summary };
}
