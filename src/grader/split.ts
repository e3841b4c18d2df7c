/**
 * The seed's lab split across hosts (course day 6: br-app stretched over two hosts by a VXLAN),
 * judged as the one lab it still is. Each host is read as it stands (discover.ts, run there), and
 * the reads are joined into one model of the stretched lab: the namespaces of every host, and the
 * bridge's ports on every host. The host side of the seed (its rules, the bridge's address, the
 * port forward) is the front host's: the one that holds nginx-lb, where the seed's DNAT leads.
 * A check's commands run on the host that holds what they ask about (trial.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from '../host/exec.ts';
import { bridge, namespaces } from './contract.ts';
import type { Captured } from './evidence.ts';
import { appBridge, contractNs, hostPeer, inSubnet, namespaceOf } from './find.ts';
import type { Credentials } from './logins.ts';
import type { HostModel } from './model.ts';

/** One host of the lab: a name, and how to run a command as root there (a virtual host's nsenter, say). */
export interface LabHost {
  name: string;
  /** argv that runs `argv` as root on this host. */
  argv(argv: string[]): string[];
}

export interface Split {
  hosts: LabHost[];
  /** The host of the seed's host side: the one nginx-lb is on (else the first). */
  front: LabHost;
  /** The host each namespace is on, as that host's `ip netns list` shows it (the front's when both have one). */
  of: Map<string, LabHost>;
  /** Each host's own reads. */
  models: Map<LabHost, HostModel>;
}

const inside = join(dirname(fileURLToPath(import.meta.url)), 'inside.ts');

interface HostRead {
  model: HostModel;
  reads: Captured[];
  /** The logins ecomnet's platform on that host handed over, when asked and it is the one serving there. */
  handed?: Credentials;
}

/** A host read by discover.ts run there, with what it ran (each record named by the host). */
async function discoverOn(h: LabHost, handshake: boolean): Promise<HostRead> {
  const r: RunResult = await run(h.argv([process.execPath, inside, JSON.stringify({ discover: true, handshake })]), { allowFail: true, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`could not read ${h.name} (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const read = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as HostRead;
  return { ...read, reads: read.reads.map((c) => ({ ...c, host: h.name })) };
}

/**
 * The stretched lab as one model: the front's host side and namespaces, then each other host's
 * namespaces the front lacks, with their veths' host ends (ports of that host's bridge, which
 * the overlay joins to the front's) among the host's links.
 */
export function stretched(front: HostModel, others: HostModel[]): HostModel {
  const names = new Set(front.namespaces.map((n) => n.name));
  const links = new Set(front.host.links.map((l) => l.name));
  const namespaces = [...front.namespaces];
  const ports = [];
  for (const m of others) {
    for (const ns of m.namespaces) {
      if (names.has(ns.name)) continue;
      names.add(ns.name);
      namespaces.push(ns);
      const peer = hostPeer(m, ns.name);
      if (peer && !links.has(peer.name)) {
        links.add(peer.name);
        ports.push(peer);
      }
    }
  }
  return { ...front, host: { ...front.host, links: [...front.host.links, ...ports] }, namespaces };
}

/**
 * Every host read, side by side; the model of the stretched lab, where each namespace is, the
 * reads as evidence, and with `handshake` the logins ecomnet's platform hands over on each host
 * (its data servers' host's), as verify takes them on one host.
 */
export async function discoverSplit(hosts: LabHost[], o: { handshake?: boolean } = {}): Promise<{ model: HostModel; split: Split; reads: Captured[]; handed?: Credentials }> {
  const read = await Promise.all(hosts.map((h) => discoverOn(h, o.handshake === true)));
  const handed = Object.assign({}, ...read.map((r) => r.handed ?? {})) as Credentials;
  const frontAt = Math.max(
    0,
    read.findIndex((r) => namespaceOf(r.model, contractNs('nginx-lb').name)),
  );
  const order = [frontAt, ...[...hosts.keys()].filter((i) => i !== frontAt)];
  const of = new Map<string, LabHost>();
  for (const i of order) for (const n of read[i]!.model.namespaces) if (!of.has(n.name)) of.set(n.name, hosts[i]!);
  const model = stretched(
    read[frontAt]!.model,
    order.slice(1).map((i) => read[i]!.model),
  );
  return {
    model,
    split: { hosts, front: hosts[frontAt]!, of, models: new Map(hosts.map((h, i) => [h, read[i]!.model])) },
    reads: read.flatMap((r) => r.reads),
    ...(Object.keys(handed).length ? { handed } : {}),
  };
}

/** The address a host's bridge has on the seed's network: the gateway its namespaces route by (the seed's on the front). */
export function gatewayOn(split: Split | undefined, host: LabHost | undefined): string {
  if (!split || !host || host === split.front) return bridge.ip;
  const own = appBridge(split.models.get(host)!)?.addresses.find((a) => inSubnet(a.ip));
  return own?.ip ?? bridge.ip;
}

/** The bridges the seed's namespaces on a host hang on there (the seed's name when none is found). */
export function bridgesOn(split: Split, host: LabHost): string[] {
  const m = split.models.get(host)!;
  const names = namespaces.filter((n) => split.of.get(n.name) === host).flatMap((n) => hostPeer(m, n.name)?.master ?? []);
  return names.length ? [...new Set(names)] : [appBridge(m)?.name ?? bridge.name];
}
