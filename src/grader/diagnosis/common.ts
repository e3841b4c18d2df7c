import { bridge, namespaces, nginxVeth, rules } from '../contract.ts';
import { type Bridge, type ContractName, contractNs, dataAt, type DataLocation, namespaceOf } from '../find.ts';
import type { HostModel, Listener } from '../model.ts';
import type { ServiceFacts } from '../service-facts.ts';

export interface Fault {
  id: string;
  cause: string;
  fix: string;
  /** Requirement keys; `drawn` when the live diagram shows it red as a fault of task 1.2's network. */
  breaks: string[];
}

export type Name = ContractName;
export const NAMES = namespaces.map((n) => n.name);
export const SUBNET = rules.masquerade.source;

export const ip = (ns: Name) => contractNs(ns).ip;
export const port = (ns: Name) => contractNs(ns).port;
export const inNs = (ns: string, cmd: string) => `sudo ip netns exec ${ns} ${cmd}`;
export const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';
export const tcpOn = (ls: Listener[], p: number) => ls.filter((l) => l.proto === 'tcp' && l.port === p);
export const shownListeners = (ls: Listener[]) => ls.map((l) => `${l.address}:${l.port}`).join(', ');

/** The seed names nginx's pair (veth-nginx / veth-nginx-br); the others follow it, short enough for IFNAMSIZ. */
export const VETH: Record<Name, string> = {
  'nginx-lb': nginxVeth.inside,
  'api-gateway': 'veth-api',
  'product-service': 'veth-product',
  'order-service': 'veth-order',
  'redis-cache': 'veth-redis',
  'postgres-db': 'veth-pg',
};

/** Task 1.2's commands for one namespace, from the veth pair to its default route. */
export function vethSetup(ns: Name, br: string): string {
  const v = VETH[ns];
  const peer = ns === 'nginx-lb' ? nginxVeth.onBridge : `${v}-br`;
  return [
    `sudo ip link add ${v} type veth peer name ${peer}`,
    `sudo ip link set ${v} netns ${ns}`,
    `sudo ip link set ${peer} master ${br}`,
    `sudo ip link set ${peer} up`,
    inNs(ns, `ip addr add ${ip(ns)}/${bridge.prefix} dev ${v}`),
    inNs(ns, `ip link set ${v} up`),
    inNs(ns, 'ip link set lo up'),
    inNs(ns, `ip route add default via ${bridge.ip}`),
  ].join(' && ');
}

// ---- where the data layer is ------------------------------------------------------------------

/** A data server as found: serving (find.ts's dataAt), or running without serving, or nowhere. */
export interface Store {
  ns: 'postgres-db' | 'redis-cache';
  at?: DataLocation;
  /** A process, listener or container of it exists. */
  running: boolean;
  /** Reached through the bridge address (a container or host process) rather than its namespace. */
  onHost: boolean;
  /** Its listeners and published ports, for causes. */
  seen: string[];
  allLoopback: boolean;
  /** The postgres master's -D, for the restart command. */
  dataDir?: string;
}

export function storeOf(model: HostModel, ns: 'postgres-db' | 'redis-cache'): Store {
  const p = port(ns);
  const isPg = ns === 'postgres-db';
  const at = dataAt(model, ns);
  const inside = namespaceOf(model, ns);
  const procs = inside?.processes.filter((x) => (isPg ? /^postgres/ : /^redis-server/).test(x.comm)) ?? [];
  const nsListen = tcpOn(inside?.listeners ?? [], p);
  const hostListen = tcpOn(model.host.listeners, p);
  const containers = (model.containers ?? []).filter((c) => c.running && ((isPg ? /postgres/ : /redis/).test(c.image) || c.ports.some((x) => x.containerPort === p)));
  const published = containers.flatMap((c) => c.ports.filter((x) => x.containerPort === p).map((x) => ({ c, x })));
  const seen = [
    ...nsListen.map((l) => `${l.address}:${l.port} in ${ns}`),
    ...hostListen.map((l) => `${l.address}:${l.port} on the host`),
    ...published.map(({ c, x }) => `${x.hostIp || '0.0.0.0'}:${x.hostPort} published by container ${c.name}`),
  ];
  const inNamespace = nsListen.length > 0 || procs.length > 0;
  const dataDir = procs.map((x) => x.argv.join(' ').match(/-D\s+(\S+)/)?.[1]).find(Boolean);
  return {
    ns,
    ...(at ? { at } : {}),
    running: !!at || inNamespace || hostListen.length > 0 || containers.length > 0,
    onHost: at ? at.where !== 'namespace' : !inNamespace && (hostListen.length > 0 || containers.length > 0),
    seen,
    allLoopback: seen.length > 0 && [...nsListen, ...hostListen].every((l) => isLoopback(l.address)) && published.every(({ x }) => isLoopback(x.hostIp)),
    ...(dataDir ? { dataDir } : {}),
  };
}

/** Where clients connect to a store: where it serves, else where it would (its namespace, or the bridge address). */
export const storeAddress = (s: Store) => s.at?.address ?? (s.onHost ? bridge.ip : ip(s.ns));

export interface Ctx {
  model: HostModel;
  facts: ServiceFacts;
  br?: Bridge;
  brName: string;
  pg: Store;
  redis: Store;
  /** The seed's Flask product service fails a GET when Redis does not answer; ecomnet's answers from its catalogue. */
  productNeedsRedis: boolean;
  /** nginx answers /health itself (the seed's location); otherwise the request goes on to the gateway. */
  nginxAnswersHealth: boolean;
}

export const ends = (ns: Name) => [`ns:${ns}`, `link:${ns}`, `addr:${ns}`, `attach:${ns}`, `peer-up:${ns}`];
export const served = (ns: Name) => [`listening:${ns}`, `listen:${ns}`];
