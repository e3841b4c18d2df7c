import { topology } from './default.ts';
import type { Topology } from './types.ts';

/**
 * Course day 6: the seed's platform across two hosts joined by a VXLAN (VNI 100, UDP 4789) on
 * their eth0, the web tier on host A (which serves port 8080) and the data tier on host B. The
 * underlay is TEST-NET-2 (RFC 5737; not TEST-NET-1, which some machines use as their own LAN): in
 * virtual hosts a LAN of their own. Two real machines bring their halves up from a copy of this
 * declaration as JSON (`up --topology FILE --host NAME`) that names their own addresses.
 */
export const twoHosts: Topology = {
  ...topology,
  hosts: {
    underlay: { subnet: '198.51.100.0/24', dev: 'eth0', mtu: 1500, router: '198.51.100.254' },
    overlay: { name: 'vxlan100', vni: 100, port: 4789 },
    list: [
      { name: 'host-a', underlay: '198.51.100.1', bridge: topology.app.bridge.ip, nodes: ['nginx-lb', 'api-gateway', 'product-service', 'order-service'] },
      { name: 'host-b', underlay: '198.51.100.2', bridge: '10.0.0.2', nodes: ['redis-cache', 'postgres-db'] },
    ],
  },
};
