import type { HostSpec, Topology } from './types.ts';

/** A host of a multi-host topology, by name: a clear error naming the others when there is none. */
export function hostNamed(t: Topology, name: string): HostSpec {
  const list = t.hosts?.list ?? [];
  const h = list.find((x) => x.name === name);
  if (!h)
    throw new Error(list.length ? `no host named ${name} in topology ${t.tag}: one of ${list.map((x) => x.name).join(', ')}` : `topology ${t.tag} has one host: --host needs a multi-host topology`);
  return h;
}

/**
 * What `host` builds of a multi-host topology: its own app nodes (the others' stay addressed, as
 * `remote`), its br-app's own address, the port forwards whose target it runs, and the overlay to
 * the other hosts (plan.ts). Everything else (plan, runtime, status, teardown) takes it as a
 * topology like any other, so one host's half is built, run and removed as a whole platform is.
 */
export function hostView(t: Topology, host: string): Topology {
  const h = hostNamed(t, host);
  const here = new Set(h.nodes);
  return {
    ...t,
    app: { ...t.app, bridge: { ...t.app.bridge, ip: h.bridge }, nodes: t.app.nodes.filter((n) => here.has(n.name)), remote: t.app.nodes.filter((n) => !here.has(n.name)) },
    portForwards: t.portForwards.filter((pf) => here.has(pf.node)),
    here: host,
  };
}

/** The overlay's MTU: the underlay's less VXLAN's 50 bytes (outer IPv4, UDP, VXLAN, inner Ethernet). */
export const overlayMtu = (t: Topology): number | undefined => (t.hosts ? t.hosts.underlay.mtu - 50 : undefined);
