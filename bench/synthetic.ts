import { formatIp, parseCidr } from '../src/topology/ipv4.ts';
import type { Topology } from '../src/topology/types.ts';

/**
 * Synthetic topologies for the network benchmarks: their own tag, names, subnets, bridges and
 * host port, so they can never collide with the main platform (src/topology/default.ts) or tests.
 */
export const BENCH_TAG = 'ecomnet-bench';
/** Where the synthetic platforms keep state and lock: apart from the main platform's run dir. */
export const BENCH_RUN_DIR = '/run/ecomnet-bench';
const APP_SUBNET = '10.200.0.0/17';
// A node-less outside segment: the plan always builds one, the bench only needs its bridge.
const OUTSIDE_SUBNET = '10.200.128.0/24';
const HOST_PORT = 8089;
/** Sizes of the scale section; the first is also the six-node comparison with the seed. */
export const SCALE = [6, 50, 250];
export const LARGEST = Math.max(...SCALE);

/** The n-th usable address of a subnet (1 is the bridge). */
function addressIn(subnet: string, n: number): string {
  return formatIp(parseCidr(subnet)!.base + n);
}

export function syntheticTopology(nodes: number): Topology {
  const names = Array.from({ length: nodes }, (_, i) => String(i + 1).padStart(3, '0'));
  return {
    tag: BENCH_TAG,
    app: {
      subnet: APP_SUBNET,
      bridge: { name: 'br-ebench', ip: addressIn(APP_SUBNET, 1) },
      nodes: names.map((id, i) => ({ name: `${BENCH_TAG}-${id}`, ip: addressIn(APP_SUBNET, 10 + i), veth: `veb-${id}`, role: 'bench node', port: 80 })),
    },
    outside: { subnet: OUTSIDE_SUBNET, bridge: { name: 'br-ebench-out', ip: addressIn(OUTSIDE_SUBNET, 1) }, nodes: [] },
    portForwards: [{ hostPort: HOST_PORT, node: `${BENCH_TAG}-${names[0]}`, port: 80 }],
  };
}
