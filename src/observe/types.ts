/**
 * One sample of the live platform, as `ecomnet observe` reads it from the data plane (the
 * kernel's conntrack tables and interface counters, the services' own protocols), never from
 * ecomnet's plan or state: the page, the terminal view, `--json` and the report all show this.
 */

/** Where traffic comes from or goes to. */
export interface Endpoint {
  /** A namespace's name; `host` (the root namespace); `container:NAME`; `external:IP` for any other address (`external:others` for those beyond the first 32). */
  id: string;
  /** `remote`: a lab namespace on the other host, reached across the overlay (not read from here). */
  kind: 'namespace' | 'host' | 'container' | 'external' | 'remote';
  /** IPv4 addresses it owns (a namespace's, the host's bridge and uplink addresses). */
  ips: string[];
  /** A namespace whose links are all up and which still exists (false once it is gone or its veth is down); a remote one's links are not seen from here (true). */
  up: boolean;
  /** A remote endpoint's way here: the VXLAN device it is seen across. */
  across?: string;
}

export type Proto = 'tcp' | 'udp' | 'icmp' | 'other';

/** Counts in both directions: `out` is the originator's (client's) side, `in` the replies. */
export interface Volume {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
}

/**
 * The traffic of one (source, destination, protocol, destination port) since the observer
 * started, counted once per connection (at the destination namespace's conntrack table, or at
 * the source's when the destination is no namespace), after DNAT: a client reaching nginx through
 * host port 8080 is counted on (client, nginx-lb, tcp, 80).
 */
export interface Pair extends Volume {
  from: string;
  to: string;
  proto: Proto;
  /** The destination port (TCP, UDP); undefined for ICMP, and for the ports of pairs beyond the 256 the observer keeps apart. */
  port?: number;
  /** Connections (conntrack entries) first seen since the observer started. */
  opened: number;
  /** Connections in the table now. */
  live: number;
  /** Per second over the last sample interval. */
  rate: { opened: number; packets: number; bytes: number };
}

/** One interface's counters (/proc/net/dev of its namespace), totals since the interface was made. */
export interface InterfaceCounters {
  /** The namespace the interface is in; `host` for the root namespace. */
  namespace: string;
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  /** Bytes per second over the last sample interval. */
  rate: { rxBytes: number; txBytes: number };
}

export interface Health {
  /** The namespace (seed name) the service belongs to. */
  name: string;
  protocol: 'http' | 'redis' | 'postgres';
  /** Where it was probed: `10.0.0.20:3000/health`, `10.0.0.50:6379`. */
  address: string;
  healthy: boolean;
  /** The probe's round trip (ms), when it answered. */
  latencyMs?: number;
  /** What answered or why it failed: `200`, `PONG`, `ECONNREFUSED`, `timeout`. */
  detail: string;
  /** When it last turned healthy or unhealthy (ISO). */
  since: string;
  /** On the other host, across this VXLAN device: unhealthy here means not reached from here, not down. */
  across?: string;
}

/**
 * A VXLAN device enslaved to the lab's bridge (discovered live), with its counters' rates and
 * its underlay device's: the overlay edge to the other host.
 */
export interface Overlay {
  name: string;
  vni?: number;
  /** The UDP port its datagrams go to. */
  port?: number;
  /** The other host's underlay address. */
  remote?: string;
  /** The underlay device (the course's eth0). */
  dev?: string;
  /** The lab bridge it is a port of. */
  bridge: string;
  /** Per second over the last sample interval, from its /proc/net/dev counters. */
  rate: PacketRates;
  /** Its underlay device's rates (undefined when that device is not found). */
  underlay?: { name: string; rate: PacketRates };
}

export interface PacketRates {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** A connection the topology declares, as the observer names its pairs; `*` for any endpoint, no `proto` or `port` for any. */
export interface DeclaredPair {
  from: string;
  to: string;
  proto?: Proto;
  port?: number;
  /** Which part of the platform needs it, or why the policy lets it through. */
  why: string;
}

/** What the topology's policy declares (src/observe/declared.ts), the same in every sample. */
export interface Declared {
  /** The request path: the port forward's client to its target, then each of the topology's flows; drawn even while idle. */
  flows: DeclaredPair[];
  /** What else the policy lets through (the host on a service port, the port forward's public target, ...): traffic there is no news, but it is drawn only once it flows. */
  allowed: DeclaredPair[];
}

export interface Snapshot {
  /** ISO time of the sample. */
  at: string;
  /** 1, 2, 3, ... since the observer started. */
  seq: number;
  intervalMs: number;
  endpoints: Endpoint[];
  /** The bridge ports and veth pairs as discovered: which endpoint hangs on which bridge. */
  links: { from: string; to: string; via: string }[];
  health: Health[];
  /** Every pair that carried traffic since the observer started, biggest byte rate first. */
  pairs: Pair[];
  /** What the topology declares, to tell its flows from traffic it does not declare: on the newest sample (the history keeps older ones without it, as it keeps them without their idle pairs). */
  declared?: Declared;
  /** The protocol mix, from the same connections. */
  protocols: { proto: Proto; live: number; opened: number; bytes: number; rate: { bytes: number } }[];
  /** Live connections by conntrack state (TCP's ESTABLISHED, TIME_WAIT, ...; UDP and ICMP as `UDP`, `ICMP`). */
  states: Record<string, number>;
  interfaces: InterfaceCounters[];
  /** A host of a two-host build: its VXLANs on the lab's bridge (absent on a host with none). */
  overlay?: Overlay[];
  /** The observer's own cost: CPU over the last interval, as a percentage of one core. */
  observer: { cpuPercent: number; sampleMs: number };
  /** What could not be read, in words (a namespace gone, conntrack unavailable). */
  notes: string[];
}

/** A running observer (src/observe/observer.ts startObserver): samples about once a second until stopped. */
export interface Observer {
  /** The newest sample; undefined before the first. */
  latest(): Snapshot | undefined;
  /** The samples kept (the last five minutes at 1 Hz), oldest first. */
  history(): Snapshot[];
  /** Called with every new sample; returns the unsubscribe. */
  subscribe(onSample: (s: Snapshot) => void): () => void;
  /** Take a sample now (also what the interval does) and return it. */
  sample(): Promise<Snapshot>;
  /** Stop sampling and restore what observing changed on the host (conntrack accounting, our chain). */
  stop(): Promise<void>;
}
