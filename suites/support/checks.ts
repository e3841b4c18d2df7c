import { nodeOf, topology } from '../../src/topology/default.ts';
import { namespaces, rules } from '../../src/grader/contract.ts';
import { inNs } from '../../src/host/exec.ts';
import type { MatrixCell } from '../../src/report/types.ts';
import { recordedShell } from './evidence.ts';
import { outside } from './live.ts';

/** Reusable checks, so the FORWARD-policy-DROP suite runs exactly what the main suites run. */

/** The outside world's two ends: ecomnet's own (its platform's outside segment, or the probe verify adds). */
export const client = nodeOf('client');
export const internet = nodeOf('internet');
/** The seed's host port for nginx (task 1.4). */
export const port = rules.dnat.dport;

/** The seed's `ip netns exec NS CMD` as a shell line. */
export const nsCommand = (ns: string, cmd: string) => inNs(ns, [cmd]).join(' ');

/** The seed's `nc -zv HOST PORT` from a namespace: can it open a TCP connection there? */
export const tcpProbe = (from: string, host: string, port: number) => recordedShell(nsCommand(from, `nc -zv -w 3 ${host} ${port}`));
export const ping = (from: string, to: string, count = 2) => recordedShell(nsCommand(from, `ping -c ${count} -W 1 -i 0.2 ${to}`));

/** Every namespace pings every other, in parallel, each ping recorded as it ran; Mininet's pingAll as data. */
export async function pingMatrix(): Promise<{ cells: MatrixCell[]; summary: string }> {
  const pairs = namespaces.flatMap((a) => namespaces.filter((b) => b !== a).map((b) => ({ a, b })));
  const cells = await mapLimit(pairs, 12, async ({ a, b }) => {
    // Three echo requests, passing if any is answered: a loaded 2-core runner may lose the first to ARP timing; a broken path answers none.
    const r = await recordedShell(nsCommand(a.name, `ping -c 3 -i 0.2 -W 2 ${b.ip}`));
    return { from: a.name, to: b.name, expected: true, received: r.exitCode === 0 };
  });
  const received = cells.filter((c) => c.received).length;
  const dropped = cells.length ? Math.round((100 * (cells.length - received)) / cells.length) : 100;
  return { cells, summary: `Results: ${dropped}% dropped (${received}/${cells.length} received)` };
}

/** TCP (HTTP) to the simulated internet host: it answers with the source address it saw. */
export const internetTcp = (from: string) => recordedShell(nsCommand(from, `curl -sS -m 5 http://${internet.ip}:${internet.port}/`));

/** The host's address on the outside segment: where an external client finds port 8080. */
export const hostAddress = outside.hostAddress;

/** The port forward as each kind of client uses it (the external client may ask for `-i`: status and headers to judge). */
export const viaForward = {
  externalClient: (path = '/health', curl = '-sS') => recordedShell(nsCommand(client.name, `curl ${curl} -m 5 http://${hostAddress}:${port}${path}`)),
  localhost: () => recordedShell(`curl -sS -m 5 http://localhost:${port}/health`),
  loopback: () => recordedShell(`curl -sS -m 5 http://127.0.0.1:${port}/health`),
  uplinkAddress: () => recordedShell(`curl -sS -m 5 http://${hostAddress}:${port}/health`),
  hairpin: (from: string) => recordedShell(nsCommand(from, `curl -sS -m 5 http://${topology.app.bridge.ip}:${port}/health`)),
};

/** Run fn over items, at most `limit` at a time (pings in parallel without flooding 2 cores). */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
