/**
 * The live host as the grader sees it: read by discover.ts from the kernel and the tools a person
 * would use (ip, ss, iptables-save, /proc, the Docker engine), never from ecomnet's plan, state
 * file or run directory, so it describes any build of the lab, whoever made it.
 */

/** An address on an interface, as `ip -j addr` gives it: 10.0.0.10 with prefix 16. */
export interface Address {
  ip: string;
  prefix: number;
}

export interface Route {
  /** `default` or a CIDR (a host route is `10.0.0.5` or `10.0.0.5/32` as ip prints it). */
  dst: string;
  via?: string;
  dev?: string;
}

export interface Link {
  name: string;
  /** `bridge`, `veth`, `loopback`, `ether`, ... (ip -d link's linkinfo kind, or link_type for lo/ether). */
  kind: string;
  /** Administratively up (the UP flag). */
  up: boolean;
  /** operstate as the kernel reports it (UP, DOWN, LOWERLAYERDOWN, UNKNOWN). */
  operstate: string;
  /** The bridge this link is a port of, if any. */
  master?: string;
  /** IPv4 only: the lab is IPv4, and the kernel's link-local IPv6 addresses say nothing about it. */
  addresses: Address[];
  /**
   * A veth's peer: the namespace it lives in (undefined = the host) and its interface name.
   * Absent when the peer is in a namespace without a name (a container's).
   */
  peer?: { namespace?: string; name: string };
}

export interface Listener {
  proto: 'tcp' | 'udp';
  /** Local address as ss prints it: `0.0.0.0`, `10.0.0.20`, `*`, `::`, `127.0.0.1`. */
  address: string;
  port: number;
  pid?: number;
  process?: string;
}

export interface Process {
  pid: number;
  /** /proc/PID/comm */
  comm: string;
  /** /proc/PID/cmdline split on NUL. */
  argv: string[];
}

export interface Namespace {
  name: string;
  links: Link[];
  routes: Route[];
  listeners: Listener[];
  processes: Process[];
}

export interface Container {
  id: string;
  name: string;
  image: string;
  running: boolean;
  /** Published ports: container port -> host address and port. */
  ports: { containerPort: number; hostIp: string; hostPort: number }[];
}

export interface HostModel {
  /** When it was read (ISO time). */
  at: string;
  /** The root (host) namespace's links, routes and listeners. */
  host: Omit<Namespace, 'name' | 'processes'>;
  /** Every named network namespace (`ip netns list`), with what runs inside. */
  namespaces: Namespace[];
  /** net.ipv4.ip_forward and net.bridge.bridge-nf-call-iptables, by dotted key (null when unreadable: no br_netfilter). */
  sysctl: Record<string, string | null>;
  /** `iptables-save` of the backend the host's iptables command uses (src/host/iptables.ts detectBackend; anything not legacy is nft). */
  iptables: { backend: 'nft' | 'legacy'; save: string };
  /** Containers when a Docker engine answers; undefined when none does. */
  containers?: Container[];
}
