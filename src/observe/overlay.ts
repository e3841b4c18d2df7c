/**
 * A host of a two-host build (course day 6): its VXLAN devices on the lab's bridge, read live
 * (`ip -j -d link show type vxlan`, no privilege needed), their counters' rates and their
 * underlay device's, and the lab's namespaces that are not on this host but answer across the
 * overlay: named by the seed's addresses (src/grader/contract.ts), as any watcher of the lab
 * knows them, never by ecomnet's plan.
 */
import { namespaces as seedNamespaces } from '../grader/contract.ts';
import { run } from '../host/exec.ts';
import type { Endpoint, Overlay, PacketRates } from './types.ts';

/** A VXLAN device as `ip -d` describes it. */
export interface VxlanLink {
  name: string;
  vni?: number;
  port?: number;
  remote?: string;
  dev?: string;
  master?: string;
}

interface IpLink {
  ifname?: string;
  master?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; remote?: string; link?: string } };
}

/** `ip -j -d link show type vxlan`'s output; anything unreadable is no device. */
export function parseVxlans(json: string): VxlanLink[] {
  let links: IpLink[];
  try {
    links = JSON.parse(json || '[]') as IpLink[];
  } catch {
    return [];
  }
  if (!Array.isArray(links)) return [];
  return links.flatMap((l): VxlanLink[] => {
    if (typeof l?.ifname !== 'string') return [];
    const d = l.linkinfo?.info_data ?? {};
    const dev = d.link ?? l.link;
    return [
      {
        name: l.ifname,
        ...(typeof d.id === 'number' ? { vni: d.id } : {}),
        ...(typeof d.port === 'number' ? { port: d.port } : {}),
        ...(typeof d.remote === 'string' ? { remote: d.remote } : {}),
        ...(typeof dev === 'string' ? { dev } : {}),
        ...(typeof l.master === 'string' ? { master: l.master } : {}),
      },
    ];
  });
}

/** The root namespace's VXLAN devices now. */
export async function readVxlans(): Promise<VxlanLink[]> {
  const r = await run(['ip', '-j', '-d', 'link', 'show', 'type', 'vxlan'], { allowFail: true, timeoutMs: 5000 });
  return r.exitCode === 0 ? parseVxlans(r.stdout) : [];
}

const NO_RATES: PacketRates = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };

/**
 * The VXLANs that are ports of one of `bridges` (the lab's, as its namespaces hang on them), with
 * the rates of the root namespace's devices by name.
 */
export function overlayOf(vxlans: VxlanLink[], bridges: Set<string>, rates: Map<string, PacketRates>): Overlay[] {
  return vxlans.flatMap((v): Overlay[] => {
    if (!v.master || !bridges.has(v.master)) return [];
    const underlay = v.dev === undefined ? undefined : rates.get(v.dev);
    return [
      {
        name: v.name,
        ...(v.vni === undefined ? {} : { vni: v.vni }),
        ...(v.port === undefined ? {} : { port: v.port }),
        ...(v.remote === undefined ? {} : { remote: v.remote }),
        ...(v.dev === undefined ? {} : { dev: v.dev }),
        bridge: v.master,
        rate: rates.get(v.name) ?? NO_RATES,
        ...(underlay && v.dev ? { underlay: { name: v.dev, rate: underlay } } : {}),
      },
    ];
  });
}

/**
 * The seed's namespaces that may answer across `overlay`: those of a name and an address no
 * endpoint here has. Candidates only: the observer keeps those its traffic reaches.
 */
export function remoteCandidates(overlay: Overlay[], local: Endpoint[]): Endpoint[] {
  const across = overlay[0]?.name;
  if (!across) return [];
  const ids = new Set(local.map((e) => e.id));
  const ips = new Set(local.flatMap((e) => e.ips));
  return seedNamespaces.filter((n) => !ids.has(n.name) && !ips.has(n.ip)).map((n): Endpoint => ({ id: n.name, kind: 'remote', ips: [n.ip], up: true, across }));
}
