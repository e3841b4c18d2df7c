/** A synthetic sample of host A of a two-host build, for the tests of how the observer shows one. */
import { declaredOf } from '../../src/observe/declared.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import type { Endpoint, Health, Pair, PacketRates, Snapshot } from '../../src/observe/types.ts';

/** Host A's own endpoints: the web tier. */
export const hostA: Endpoint[] = [
  { id: 'host', kind: 'host', ips: ['10.0.0.1', '198.51.100.1'], up: true },
  { id: 'nginx-lb', kind: 'namespace', ips: ['10.0.0.10'], up: true },
  { id: 'api-gateway', kind: 'namespace', ips: ['10.0.0.20'], up: true },
  { id: 'product-service', kind: 'namespace', ips: ['10.0.0.30'], up: true },
  { id: 'order-service', kind: 'namespace', ips: ['10.0.0.40'], up: true },
];

export const rates = (n: number): PacketRates => ({ rxBytes: n, txBytes: n * 2, rxPackets: n / 100, txPackets: n / 50 });

export const pair = (from: string, to: string, port: number, bytes: number): Pair => ({
  from,
  to,
  proto: 'tcp',
  port,
  packetsOut: 10,
  bytesOut: bytes,
  packetsIn: 10,
  bytesIn: bytes,
  opened: 1,
  live: 1,
  rate: { opened: 1, packets: 20, bytes },
});
export const health = (name: string, healthy: boolean, across?: string): Health => ({
  name,
  protocol: 'http',
  address: name,
  healthy,
  detail: healthy ? '200' : 'timeout',
  since: '2026-01-01T00:00:00.000Z',
  ...(across ? { across } : {}),
});

/** A sample of host A: product-service and order-service reaching host B's data tier across vxlan100. */
export function twoHostSnapshot(): Snapshot {
  return {
    at: '2026-01-01T00:00:10.000Z',
    seq: 10,
    intervalMs: 1000,
    endpoints: [
      ...hostA,
      { id: 'redis-cache', kind: 'remote', ips: ['10.0.0.50'], up: true, across: 'vxlan100' },
      { id: 'postgres-db', kind: 'remote', ips: ['10.0.0.60'], up: true, across: 'vxlan100' },
    ],
    links: hostA.filter((e) => e.kind === 'namespace').map((e) => ({ from: e.id, to: 'host', via: 'br-app' })),
    health: [health('product-service', true), health('redis-cache', true, 'vxlan100'), health('postgres-db', false, 'vxlan100')],
    pairs: [pair('product-service', 'redis-cache', 6379, 2048), pair('order-service', 'postgres-db', 5432, 4096), pair('api-gateway', 'product-service', 5000, 1024)],
    declared: declaredOf(twoHosts),
    protocols: [],
    states: {},
    interfaces: [],
    overlay: [{ name: 'vxlan100', vni: 100, port: 4789, remote: '198.51.100.2', dev: 'eth0', bridge: 'br-app', rate: rates(3072), underlay: { name: 'eth0', rate: rates(4096) } }],
    observer: { cpuPercent: 1, sampleMs: 5 },
    notes: [],
  };
}
