/**
 * A made-up but complete observer, so the page and its server can be tested without a platform:
 * snapshots in the shape of src/observe/types.ts, built from the topology, with traffic and
 * services going down and up as a test says.
 */
import { topology } from '../../src/topology/default.ts';
import type { Component } from '../../src/topology/types.ts';
import { declaredOf } from '../../src/observe/declared.ts';
import type { Health, Observer, Pair, Proto, Snapshot } from '../../src/observe/types.ts';

/** A pair seen for the first time: nothing counted yet. */
const idlePair = (from: string, to: string, proto: Proto, port: number | undefined): Pair => ({
  from,
  to,
  proto,
  port,
  packetsOut: 0,
  bytesOut: 0,
  packetsIn: 0,
  bytesIn: 0,
  opened: 0,
  live: 0,
  rate: { opened: 0, packets: 0, bytes: 0 },
});

const PROTOCOL: Partial<Record<Component, Health['protocol']>> = { nginx: 'http', gateway: 'http', product: 'http', order: 'http', redis: 'redis', postgres: 'postgres' };

/** Traffic of one pair during one sample: per second, over the sample's interval. */
export interface Flow {
  from: string;
  to: string;
  proto?: Proto;
  port?: number;
  bytesPerSecond: number;
  packetsPerSecond?: number;
  connectionsPerSecond?: number;
}

export interface SampleChange {
  /** Services (namespace names) that do not answer in this sample. */
  down?: string[];
  /** Namespaces whose links are down in this sample (their endpoint not up). */
  linkDown?: string[];
  /** Containers mode: data containers (names) with no namespace of their own, as `container:NAME` endpoints. */
  containers?: string[];
  flows?: Flow[];
  /** Connections open in this sample that carry nothing (kept alive from before the observer, a baseline): a pair with no counts. */
  open?: Omit<Flow, 'bytesPerSecond' | 'packetsPerSecond' | 'connectionsPerSecond'>[];
}

const key = (f: { from: string; to: string; proto?: Proto; port?: number }) => `${f.from}>${f.to}/${f.proto ?? 'tcp'}/${f.port ?? ''}`;

/** An Observer whose samples a test makes, one `next()` at a time; the server cannot tell it from the real one. */
export class SyntheticObserver implements Observer {
  readonly intervalMs = 1000;
  private readonly samples: Snapshot[] = [];
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private readonly pairs = new Map<string, Pair>();
  private readonly since = new Map<string, { healthy: boolean; at: string }>();
  private readonly start = Date.now() - 60_000;

  /** How many times a sample was turned into JSON. */
  serialized = 0;

  /** How many listen now (the server: one subscription while any event stream is open). */
  get subscribers(): number {
    return this.listeners.size;
  }

  latest(): Snapshot | undefined {
    return this.samples.at(-1);
  }

  history(): Snapshot[] {
    return [...this.samples];
  }

  subscribe(onSample: (s: Snapshot) => void): () => void {
    this.listeners.add(onSample);
    return () => this.listeners.delete(onSample);
  }

  async sample(): Promise<Snapshot> {
    return this.next();
  }

  async stop(): Promise<void> {
    this.listeners.clear();
  }

  /** Make the next sample (what changed since the last) and hand it to every subscriber. */
  next(change: SampleChange = {}): Snapshot {
    const seq = this.samples.length + 1;
    const at = new Date(this.start + seq * this.intervalMs).toISOString();
    const seconds = this.intervalMs / 1000;
    for (const p of this.pairs.values()) p.rate = { opened: 0, packets: 0, bytes: 0 };
    for (const f of change.flows ?? []) {
      const proto = f.proto ?? 'tcp';
      const p = this.pairs.get(key(f)) ?? idlePair(f.from, f.to, proto, proto === 'icmp' ? undefined : f.port);
      const packets = f.packetsPerSecond ?? Math.ceil(f.bytesPerSecond / 500);
      const opened = f.connectionsPerSecond ?? 0;
      p.bytesOut += Math.round((f.bytesPerSecond * seconds) / 4);
      p.bytesIn += Math.round((f.bytesPerSecond * seconds * 3) / 4);
      p.packetsOut += Math.ceil((packets * seconds) / 2);
      p.packetsIn += Math.floor((packets * seconds) / 2);
      p.opened += Math.round(opened * seconds);
      p.live = Math.max(1, Math.round(opened));
      p.rate = { opened, packets, bytes: f.bytesPerSecond };
      this.pairs.set(key(f), p);
    }
    for (const p of this.pairs.values()) if (p.rate.bytes === 0) p.live = 0;
    for (const o of change.open ?? []) {
      const proto = o.proto ?? 'tcp';
      const p = this.pairs.get(key(o)) ?? idlePair(o.from, o.to, proto, o.port);
      p.live++;
      this.pairs.set(key(o), p);
    }

    const down = new Set(change.down ?? []);
    const health: Health[] = topology.app.nodes.map((n) => {
      const healthy = !down.has(n.name);
      const was = this.since.get(n.name);
      if (!was || was.healthy !== healthy) this.since.set(n.name, { healthy, at });
      const protocol = (n.component && PROTOCOL[n.component]) || 'http';
      return {
        name: n.name,
        protocol,
        address: `${n.ip}:${n.port}${protocol === 'http' ? '/health' : ''}`,
        healthy,
        // A slow wave per service, so the sparklines read as a person would expect.
        latencyMs: healthy ? 1.5 + (n.port! % 7) / 4 + Math.sin(seq / 6 + n.port!) * 0.6 : undefined,
        detail: healthy ? (protocol === 'redis' ? 'PONG' : protocol === 'postgres' ? 'SELECT 1' : '200') : 'ECONNREFUSED',
        since: this.since.get(n.name)!.at,
      };
    });
    const pairs = [...this.pairs.values()].map((p) => ({ ...p, rate: { ...p.rate } })).sort((a, b) => b.rate.bytes - a.rate.bytes);
    const protos: Proto[] = ['tcp', 'udp', 'icmp'];
    const nodes = [...topology.app.nodes, ...topology.outside.nodes];
    const s: Snapshot = {
      at,
      seq,
      intervalMs: this.intervalMs,
      // As discovery lists them: by name, loopback first; the host with an address of its own uplink too.
      endpoints: [
        { id: 'host', kind: 'host', ips: ['127.0.0.1', '192.0.2.2', topology.app.bridge.ip, topology.outside.bridge.ip], up: true },
        ...nodes.map((n) => ({ id: n.name, kind: 'namespace' as const, ips: ['127.0.0.1', n.ip], up: !change.linkDown?.includes(n.name) })).sort((a, b) => a.id.localeCompare(b.id)),
        ...(change.containers ?? []).map((c) => ({ id: `container:${c}`, kind: 'container' as const, ips: [], up: true })),
      ],
      // As the observer reports them: each namespace's veth reaches the host, on that bridge.
      links: [
        ...topology.app.nodes.map((n) => ({ from: n.name, to: 'host', via: topology.app.bridge.name })),
        ...topology.outside.nodes.map((n) => ({ from: n.name, to: 'host', via: topology.outside.bridge.name })),
      ],
      health,
      pairs,
      declared: declaredOf(topology),
      protocols: protos.map((proto) => {
        const of = pairs.filter((p) => p.proto === proto);
        return {
          proto,
          live: of.reduce((n, p) => n + p.live, 0),
          opened: of.reduce((n, p) => n + p.opened, 0),
          bytes: of.reduce((n, p) => n + p.bytesOut + p.bytesIn, 0),
          rate: { bytes: of.reduce((n, p) => n + p.rate.bytes, 0) },
        };
      }),
      states: { ESTABLISHED: pairs.filter((p) => p.proto === 'tcp').reduce((n, p) => n + p.live, 0), TIME_WAIT: pairs.reduce((n, p) => n + p.opened, 0) % 17 },
      interfaces: topology.app.nodes.map((n) => {
        const rate = pairs.filter((p) => p.to === n.name || p.from === n.name).reduce((b, p) => b + p.rate.bytes, 0);
        return {
          namespace: n.name,
          name: n.veth,
          rxBytes: seq * 1000,
          rxPackets: seq * 10,
          rxErrors: 0,
          rxDropped: 0,
          txBytes: seq * 900,
          txPackets: seq * 9,
          txErrors: 0,
          txDropped: 0,
          rate: { rxBytes: rate / 2, txBytes: rate / 2 },
        };
      }),
      observer: { cpuPercent: 1.2, sampleMs: 14 },
      notes: [],
    };
    // Counted as JSON.stringify takes it; left out of the JSON itself (not enumerable).
    Object.defineProperty(s, 'toJSON', {
      value: () => {
        this.serialized++;
        return { ...s };
      },
    });
    this.samples.push(s);
    for (const l of this.listeners) l(s);
    return s;
  }
}

/** The request path under load: what a burst through :8080 does, pair by pair. */
export const BURST: Flow[] = [
  { from: 'ext-client', to: 'nginx-lb', port: 80, bytesPerSecond: 48_000, packetsPerSecond: 220, connectionsPerSecond: 20 },
  { from: 'nginx-lb', to: 'api-gateway', port: 3000, bytesPerSecond: 52_000, packetsPerSecond: 180, connectionsPerSecond: 2 },
  { from: 'api-gateway', to: 'product-service', port: 5000, bytesPerSecond: 40_000, packetsPerSecond: 120, connectionsPerSecond: 1 },
  { from: 'api-gateway', to: 'order-service', port: 5000, bytesPerSecond: 6_000, packetsPerSecond: 30, connectionsPerSecond: 1 },
  { from: 'product-service', to: 'redis-cache', port: 6379, bytesPerSecond: 9_000, packetsPerSecond: 60 },
  { from: 'order-service', to: 'postgres-db', port: 5432, bytesPerSecond: 4_000, packetsPerSecond: 40 },
];
