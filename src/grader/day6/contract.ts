/**
 * What course day 6 says (the lab across two hosts), in its own literals: the contract the grader
 * holds any two-host build to, whoever built it. Deliberately not derived from src/topology, so a
 * check cannot pass by agreeing with the code it checks. Day 6 stretches the seed's br-app across
 * two hosts with `ip link add vxlan100 type vxlan id 100 remote <HOST_B_IP> dstport 4789 dev eth0`
 * and `ip link set vxlan100 master br-app`; its deliverable is "working multi-host communication".
 */

/** The course's VXLAN, as it types it. */
export const vxlan = { name: 'vxlan100', vni: 100, port: 4789, underlayDev: 'eth0', bridge: 'br-app' } as const;

/** Linux's own VXLAN port when none is given (the IANA one is 4789): the classic port mismatch. */
export const linuxDefaultPort = 8472;

/**
 * The overlay's room: VXLAN adds 50 bytes (outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14) to
 * each frame, so on a 1500-byte underlay the overlay carries IP packets of at most 1450 bytes: a
 * ping that may not be fragmented crosses with 1422 bytes of payload (+ ICMP 8 + IP 20) and not
 * with 1423.
 */
export const mtu = { underlay: 1500, header: 50, overlay: 1450, dfPingCrosses: 1422, dfPingStops: 1423 } as const;

/** The course's split: the web tier on host A (which serves port 8080), the data tier on host B. */
export const split = {
  a: ['nginx-lb', 'api-gateway', 'product-service', 'order-service'],
  b: ['redis-cache', 'postgres-db'],
} as const;

/**
 * One segment, so one owner per address: host A's br-app keeps the seed's gateway 10.0.0.1, and no
 * address of the app subnet (a bridge's or a namespace's) may be on both hosts.
 */
export const gatewayOnA = '10.0.0.1';
