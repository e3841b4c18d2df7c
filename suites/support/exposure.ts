import { nodeNamed, topology } from '../../src/topology/default.ts';
import type { Decision, Packet } from '../../src/grader/netfilter.ts';
import type { Outside, Probe } from '../../src/grader/judge.ts';
import { OUTSIDE } from '../../src/topology/outside.ts';
import type { Topology } from '../../src/topology/types.ts';

/**
 * What ecomnet's FORWARD rules must keep out, as packets for the walker (nothing is ever sent):
 * shared by the plan's unit test and the live one, so both judge the same packets.
 */

/** A neighbour on the real uplink's network that routes the lab's subnet through this host (RFC 5737). */
export const NEIGHBOUR = '192.0.2.7';
/** A cloud's instance metadata service, which answers with the machine's credentials. */
export const METADATA = { ip: '169.254.169.254', port: 80 };

/**
 * The grader's outside on ecomnet's own platform with its test guard: verify's outside segment
 * first, and the way out egress is judged by, since the guard closes the real uplink `uplinkDev`
 * (a second way in) to the lab. judge.ts's outsideOf would take `uplinkDev` as the way out.
 */
export function guardedOutside(uplinkDev: string | undefined, bridge = topology.app.bridge.name): Outside {
  return {
    ifaces: [OUTSIDE.bridge, ...(uplinkDev ? [uplinkDev] : [])],
    uplink: OUTSIDE.bridge,
    hostAddress: OUTSIDE.host.ip,
    client: OUTSIDE.client.ip,
    internet: OUTSIDE.internet.ip,
    internetPort: OUTSIDE.internet.port,
    bridge,
    bridgedHopsFiltered: true,
  };
}

const probe = (what: string, packet: Packet, wanted: string): Probe => ({ what, table: 'filter', chain: 'FORWARD', packet, wanted, holds: (d: Decision) => d.target === wanted });

export function exposureProbes(o: Outside, t: Topology = topology): { direct: Probe[]; forwarded: Probe[]; linkLocal: Probe[] } {
  // Our simulated outside is outside too: its client there, a neighbour on the real uplink.
  const senders = [{ iface: o.ifaces[0]!, src: o.client }, ...o.ifaces.slice(1).map((iface) => ({ iface, src: NEIGHBOUR }))];
  const into = (iface: string, src: string, dst: string, dport: number, ctstate: string[]): Packet => ({ in: iface, out: o.bridge, src, dst, proto: 'tcp', dport, ctstate });
  return {
    // Every service, nginx-lb's included when the connection was not port-forwarded.
    direct: senders.flatMap(({ iface, src }) =>
      t.app.nodes.flatMap((n) => (n.port === undefined ? [] : [probe(`new ${src} -> ${n.name} ${n.ip}:${n.port} in ${iface}, not port-forwarded`, into(iface, src, n.ip, n.port, ['NEW']), 'DROP')])),
    ),
    forwarded: senders.flatMap(({ iface, src }) =>
      t.portForwards.map((pf) => {
        const n = nodeNamed(pf.node, t);
        return probe(`port-forwarded ${src} -> ${n.name} ${n.ip}:${pf.port} in ${iface}`, into(iface, src, n.ip, pf.port, ['NEW', 'DNAT']), 'ACCEPT');
      }),
    ),
    linkLocal: t.app.nodes.flatMap((n) =>
      o.ifaces.map((iface) =>
        probe(
          `${n.name} ${n.ip} -> ${METADATA.ip}:${METADATA.port} out ${iface}`,
          { in: o.bridge, out: iface, src: n.ip, dst: METADATA.ip, proto: 'tcp', dport: METADATA.port, ctstate: ['NEW'] },
          'REJECT',
        ),
      ),
    ),
  };
}
