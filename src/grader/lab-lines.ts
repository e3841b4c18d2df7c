/**
 * A build of the lab as lines of text, from a discovered model: what `verify` must leave exactly
 * as it found it (the six namespaces' links, addresses, routes and the servers listening there,
 * with their pids, the host's links, addresses and routes, the sysctls and the rules). What
 * verify adds itself (its probe) is left out by name, and counters are not part of a rule.
 * Servers, not every process: PostgreSQL forks backends and autovacuum workers as it likes, but a
 * server restarted or stopped changes its listener's pid or loses it.
 */
import { namespaces } from './contract.ts';
import type { HostModel, Link, Route } from './model.ts';

const link = (l: Link) => `${l.name} ${l.up ? 'up' : 'down'} master=${l.master ?? '-'} ${l.addresses.map((a) => `${a.ip}/${a.prefix}`).join(',')}`;
const route = (r: Route) => `${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;

/** `probe`: the names of verify's own links, which a route or link of its own carries. */
export function labLines(model: HostModel, probe: string[]): string[] {
  const ours = (name: string | undefined) => name !== undefined && probe.includes(name);
  const lab = model.namespaces.filter((n) => namespaces.some((c) => c.name === n.name));
  return [
    ...lab.flatMap((n) => [
      ...n.links.map((l) => `${n.name} link ${link(l)}`),
      ...n.routes.map((r) => `${n.name} route ${route(r)}`),
      ...n.listeners.map((l) => `${n.name} listens ${l.proto} ${l.address}:${l.port} pid=${l.pid ?? '?'} ${l.process ?? ''}`),
    ]),
    ...model.host.links.filter((l) => !ours(l.name) && !ours(l.master)).map((l) => `host link ${link(l)}`),
    ...model.host.routes.filter((r) => !ours(r.dev)).map((r) => `host route ${route(r)}`),
    ...Object.entries(model.sysctl).map(([k, v]) => `sysctl ${k}=${v}`),
    ...model.iptables.save
      .split('\n')
      .filter((l) => l.startsWith('-') || l.startsWith(':') || l.startsWith('*'))
      .map((l) => `iptables ${l.replace(/\[\d+:\d+\]/, '').trim()}`),
  ].sort();
}
