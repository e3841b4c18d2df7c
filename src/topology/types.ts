/** The platform as data: everything else (plan, services, suites, report) derives from this. */

export interface NodeSpec {
  /** Network namespace name. */
  name: string;
  ip: string;
  /** Interface name inside the namespace; the host-side peer is `${veth}-br` as in the seed. */
  veth: string;
  /** What runs there, for the diagram and the status table. */
  role: string;
  /** Which part of the platform the runtime starts in this namespace. */
  component?: Component;
  /** The TCP port its service listens on, if any. */
  port?: number;
}

export type Component = 'nginx' | 'gateway' | 'product' | 'order' | 'redis' | 'postgres' | 'client' | 'internet';

/** The data layer: servers in their namespaces (native) or containers (containers mode). */
export type DataComponent = Extract<Component, 'postgres' | 'redis'>;

export interface BridgeSpec {
  name: string;
  ip: string;
}

export interface PortForward {
  hostPort: number;
  node: string;
  port: number;
}

export interface Segment {
  subnet: string;
  bridge: BridgeSpec;
  nodes: NodeSpec[];
  /** Multi-host, one host's view: the segment's nodes on the other hosts, addressed across the overlay and never built here. */
  remote?: NodeSpec[];
}

export interface Topology {
  /** Prefix of every iptables comment, state entry and label we create. */
  tag: string;
  /** The container network (the seed's 10.0.0.0/16 behind br-app). */
  app: Segment;
  /** Our own stand-in for the outside world: an external client and an internet host. */
  outside: Segment;
  portForwards: PortForward[];
  /**
   * Containers mode: host ports on the app bridge's address where the data layer's containers
   * are published (the seed's `-p 5432:5432`), reached by the services at that gateway address.
   */
  published?: Record<DataComponent, number>;
  /**
   * East-west policy: the only connections one app namespace may open to another's service
   * port, besides ICMP, the host's own and the port-forward target's public port. Absent: no
   * policy, the seed's flat network.
   */
  flows?: Flow[];
  /**
   * Course day 6: the platform across machines. Each host has its own br-app on the app subnet,
   * and a VXLAN on the underlay between them, enslaved to each bridge, joins them into one. Absent:
   * one host, the seed's lab.
   */
  hosts?: Hosts;
  /** Multi-host: the host this view of the topology is built on (src/topology/hosts.ts hostView). */
  here?: string;
}

/** The machines a multi-host platform stands on, the underlay between them and the overlay over it. */
export interface Hosts {
  /** The LAN the hosts share (a course VM's eth0): documentation addresses in virtual hosts. */
  underlay: {
    subnet: string;
    dev: string;
    mtu: number;
    /** The LAN's way out, in virtual hosts (the world's router). */
    router: string;
  };
  overlay: { name: string; vni: number; port: number };
  /** The first host serves the port forward; together they run every app node, each exactly once. */
  list: HostSpec[];
}

export interface HostSpec {
  name: string;
  /** Its address on the underlay. */
  underlay: string;
  /** Its br-app's address: each host's own, since the overlay makes the bridges one segment (the first keeps the seed's gateway). */
  bridge: string;
  /** The app nodes (namespaces) it runs. */
  nodes: string[];
}

/** One allowed connection: `from` may open TCP connections to `to` on its port (`port`, else the node's own). */
export interface Flow {
  from: string;
  to: string;
  port?: number;
  /** Which part of the platform or which of the seed's commands needs it. */
  why: string;
}

/** `deny`: only the declared flows (the default); `open`: the seed's flat network, every namespace reaching every port. */
export type Policy = 'deny' | 'open';

/** Where the data layer runs: Debian's servers in their namespaces, or Docker containers (the seed's way). */
export type DataMode = 'native' | 'containers';

export interface HostRoute {
  dst: string;
  dev?: string;
}
