/**
 * Where the grader stands outside a build: an external client that connects to the host's port
 * 8080, and an internet host that answers a namespace's egress with the address it saw. The
 * grader's own, on documentation addresses (RFC 5737) no lab uses: on a real host it is verify's
 * probe (two namespaces on an uplink bridge of its own, src/grader/probe.ts), in a virtual host
 * the world behind its eth0 (src/vhost). ecomnet's platform declares this outside segment as its
 * own (src/topology/default.ts takes it from src/topology/outside.ts too), so verify uses it as it is there.
 */
import { inNs } from '../host/exec.ts';
import { OUTSIDE } from '../topology/outside.ts';

/** An address no lab and no outside segment uses, for packets the walker judges without a vantage (TEST-NET-2). */
export const ANY_CLIENT = '198.51.100.7';

export interface Vantage {
  kind: 'probe' | 'vhost';
  /** The interface of the host that leads to the client and the internet host. */
  iface: string;
  hostAddress: string;
  client: string;
  internet: string;
  internetPort: number;
  /** A shell line that runs `cmd` as the external client (in its network namespace). */
  asClient(cmd: string): string;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** verify's probe on a real host, or ecomnet's own outside segment: the client in its named namespace. */
export const probeVantage: Vantage = {
  kind: 'probe',
  iface: OUTSIDE.bridge,
  hostAddress: OUTSIDE.host.ip,
  client: OUTSIDE.client.ip,
  internet: OUTSIDE.internet.ip,
  internetPort: OUTSIDE.internet.port,
  asClient: (cmd) => inNs(OUTSIDE.client.ns, [cmd]).join(' '),
};

/** Inside a virtual host: the world behind eth0, a network namespace `ip netns list` does not show. */
export function vhostVantage(worldNetns: string, uplink: string): Vantage {
  return { ...probeVantage, kind: 'vhost', iface: uplink, asClient: (cmd) => `nsenter --net=${quote(worldNetns)} ${cmd}` };
}
