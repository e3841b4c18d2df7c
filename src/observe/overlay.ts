/**
 * A host of a two-host build (course day 6): its VXLAN devices on the lab's bridge, read live
 * (`ip -j -d link show type vxlan`, no privilege needed), their counters' rates and their
 * underlay device's, and the lab's namespaces that are not on this host but answer across the
 * overlay: named by the seed's addresses (src/grader/contract.ts), as any watcher of the lab
 * knows them, never by ecomnet's plan.
 */
import { namespaces as seedNamespaces } from '../grader/contract.ts';
import { run } from '../host/exec.ts';
import { parseVxlans, type Vxlan } from '../net/vxlan.ts';
import type { Endpoint, Overlay, PacketRates } from './types.ts';

/** The root namespace's VXLAN devices now. */
export async function readVxlans(): Promise<Vxlan[]> {
  const r = await run(['ip', '-j', '-d', 'link', 'show', 'type', 'vxlan'], { allowFail: true, timeoutMs: 5000 });
  return r.exitCode === 0 ? parseVxlans(r.stdout) : [];
}

const NO_RATES: PacketRates = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };

/**
 * The VXLANs that are ports of one of `bridges` (the lab's, as its namespaces hang on them), with
 * the rates of the root namespace's devices by name.
 */
export function overlayOf(vxlans: Vxlan[], bridges: Set<string>, rates: Map<string, PacketRates>): Overlay[] {
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
