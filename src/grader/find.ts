/**
 * Small pure questions over a HostModel, asked in the contract's terms (its namespaces, its
 * addresses, its bridge address and its rules) and never the topology's: where is the app
 * bridge, which interface is a namespace's, who listens, where does the data layer live (the
 * rules are judged in judge.ts). The grader's checks, its diagnosis and the live diagram ask them.
 */
import { contains, parseCidr, parseIp } from '../topology/ipv4.ts';
import { bridge, namespaces, rules } from './contract.ts';
import type { Address, HostModel, Link, Listener, Namespace } from './model.ts';

/** One of the contract's six namespaces. */
export type ContractNamespace = (typeof namespaces)[number];
export type ContractName = ContractNamespace['name'];

const subnet = parseCidr(rules.masquerade.source)!;

export const inSubnet = (ip: string): boolean => {
  const n = parseIp(ip);
  return n !== undefined && contains(subnet, n);
};

/** The contract's entry for a namespace name; typed so a misspelt name fails to compile. */
export const contractNs = (name: ContractName): ContractNamespace => namespaces.find((n) => n.name === name)!;

export const namespaceOf = (model: HostModel, ns: string): Namespace | undefined => model.namespaces.find((n) => n.name === ns);

export const hostLink = (model: HostModel, name: string): Link | undefined => model.host.links.find((l) => l.name === name);

/** The namespace's interface on the app network: the one with an address in the subnet, else its first veth. */
export function nsLink(model: HostModel, ns: string): Link | undefined {
  const links = namespaceOf(model, ns)?.links.filter((l) => l.kind !== 'loopback') ?? [];
  return links.find((l) => l.addresses.some((a) => inSubnet(a.ip))) ?? links.find((l) => l.kind === 'veth');
}

/** The host end of the namespace's veth (undefined when its peer is not on the host). */
export function hostPeer(model: HostModel, ns: string): Link | undefined {
  const peer = nsLink(model, ns)?.peer;
  return peer && peer.namespace === undefined ? hostLink(model, peer.name) : undefined;
}

export interface Bridge {
  name: string;
  up: boolean;
  operstate: string;
  addresses: Address[];
  /** Names of the host links enslaved to it. */
  ports: string[];
}

/**
 * The bridge the contract namespaces' veth peers hang on, whatever it is called (the one most
 * of them use); when none hangs on one, a bridge of the contract's name.
 */
export function appBridge(model: HostModel): Bridge | undefined {
  const masters = namespaces.flatMap((n) => hostPeer(model, n.name)?.master ?? []);
  const counts = new Map<string, number>();
  for (const m of masters) counts.set(m, (counts.get(m) ?? 0) + 1);
  const name = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? bridge.name;
  const link = hostLink(model, name);
  if (link?.kind !== 'bridge') return undefined;
  return { name, up: link.up, operstate: link.operstate, addresses: link.addresses, ports: model.host.links.filter((l) => l.master === name).map((l) => l.name) };
}

/** Addresses a listener bound there accepts IPv4 connections on any local address from. */
const WILDCARDS = new Set(['0.0.0.0', '*', '::']);

/** Does the listener accept connections to `ip`: bound to it or to every address. */
export const servesAt = (l: Listener, ip: string): boolean => l.address === ip || WILDCARDS.has(l.address);

/** A listener on `port` in namespace `ns`; the host's when ns is undefined. */
export function listener(model: HostModel, ns: string | undefined, port: number, proto: Listener['proto'] = 'tcp'): Listener | undefined {
  const list = ns === undefined ? model.host.listeners : (namespaceOf(model, ns)?.listeners ?? []);
  return list.find((l) => l.port === port && l.proto === proto);
}

/** Where a data server answers the services, and what serves it there (a process or a container). */
export interface DataLocation {
  where: 'namespace' | 'container' | 'host';
  address: string;
  port: number;
  by?: string;
}

/**
 * Where a data namespace's server lives: in its namespace at its own address (task 2.4 native),
 * in a running container publishing the port on the bridge address (`docker run -p 5432:5432`,
 * reached at 10.0.0.1), or a host process listening there; undefined when nowhere.
 */
export function dataAt(model: HostModel, name: 'postgres-db' | 'redis-cache'): DataLocation | undefined {
  const { ip, port } = contractNs(name);
  const inside = namespaceOf(model, name)?.listeners.find((l) => l.proto === 'tcp' && l.port === port && servesAt(l, ip));
  if (inside) return { where: 'namespace', address: ip, port, ...(inside.process ? { by: inside.process } : {}) };
  const published = (hostIp: string) => hostIp === '' || WILDCARDS.has(hostIp) || hostIp === bridge.ip;
  const container = model.containers?.find((c) => c.running && c.ports.some((p) => p.hostPort === port && published(p.hostIp)));
  if (container) return { where: 'container', address: bridge.ip, port, by: container.name };
  const host = model.host.listeners.find((l) => l.proto === 'tcp' && l.port === port && servesAt(l, bridge.ip));
  if (host) return { where: 'host', address: bridge.ip, port, ...(host.process ? { by: host.process } : {}) };
  return undefined;
}

export const postgresAt = (model: HostModel): DataLocation | undefined => dataAt(model, 'postgres-db');
export const redisAt = (model: HostModel): DataLocation | undefined => dataAt(model, 'redis-cache');
