/** The seed's screenshots, in the seed's order: each becomes evidence captured by a test. */
export interface Deliverable {
  id: string;
  /** Phase 1 (foundation) or Phase 2 (application services). */
  epic: 'Phase 1: Linux primitives' | 'Phase 2: Application services';
  /** The seed task, e.g. "1.2 Build a virtual bridge network". */
  feature: string;
  title: string;
  /**
   * The test files whose tests prove it (relative to the repository root). When one of them
   * fails to load or a hook stops its tests, they never tag themselves, so the reporter fails
   * the deliverable from this list instead of calling it missing.
   */
  suites: string[];
}

const T11 = '1.1 Create network namespaces';
const T12 = '1.2 Build a virtual bridge network';
const T13 = '1.3 NAT for internet access';
const T14 = '1.4 Port forwarding';
const T21 = '2.1 Nginx load balancer';
const T22 = '2.2 API gateway';
const T23 = '2.3 Product service with Redis';
const T24 = '2.4 Order service with PostgreSQL';
const P1 = 'Phase 1: Linux primitives' as const;
const P2 = 'Phase 2: Application services' as const;

export const deliverables: Deliverable[] = [
  { id: '1.1-netns-list', epic: P1, feature: T11, title: 'All namespaces created (ip netns list)', suites: ['suites/phase1/namespaces.test.ts'] },
  { id: '1.2-diagram', epic: P1, feature: T12, title: 'Network diagram of the live setup', suites: ['suites/phase1/bridge.test.ts'] },
  { id: '1.2-bridge', epic: P1, feature: T12, title: 'Bridge br-app with its connected interfaces', suites: ['suites/phase1/bridge.test.ts'] },
  { id: '1.2-veth', epic: P1, feature: T12, title: 'veth pairs (ip link show type veth)', suites: ['suites/phase1/bridge.test.ts'] },
  { id: '1.2-ping-nginx', epic: P1, feature: T12, title: 'Ping nginx-lb -> api-gateway and -> product-service', suites: ['suites/phase1/reachability.test.ts'] },
  { id: '1.2-ping-gateway', epic: P1, feature: T12, title: 'Ping api-gateway -> product-service and -> order-service', suites: ['suites/phase1/reachability.test.ts'] },
  { id: '1.3-internet', epic: P1, feature: T13, title: 'Internet connectivity from product-service (simulated internet)', suites: ['suites/phase1/egress.test.ts'] },
  { id: '1.4-external-client', epic: P1, feature: T14, title: 'External client reaches nginx through port 8080', suites: ['suites/phase1/port-forward.test.ts'] },
  { id: '1.4-nat-rules', epic: P1, feature: T14, title: 'NAT rules (iptables -t nat -L -v -n)', suites: ['suites/phase1/rules.test.ts', 'suites/phase1/port-forward.test.ts'] },
  { id: '1.4-traffic-flow', epic: P1, feature: T14, title: 'Traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80', suites: ['suites/phase1/port-forward.test.ts'] },
  { id: '2.1-health-host', epic: P2, feature: T21, title: 'nginx /health from the host', suites: ['suites/phase2/nginx.test.ts'] },
  { id: '2.1-health-namespace', epic: P2, feature: T21, title: 'nginx /health from another namespace', suites: ['suites/phase2/nginx.test.ts'] },
  { id: '2.2-listening', epic: P2, feature: T22, title: 'Gateway listening on 3000 (ss -lntp)', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-health-inside', epic: P2, feature: T22, title: 'Gateway /health inside its namespace', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-health-nginx', epic: P2, feature: T22, title: 'Gateway /health from nginx-lb', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-products-namespace', epic: P2, feature: T22, title: 'Products routed from the gateway namespace', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-products-host', epic: P2, feature: T22, title: 'Products routed through the host port', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-orders-namespace', epic: P2, feature: T22, title: 'Orders routed from the gateway namespace', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.2-orders-host', epic: P2, feature: T22, title: 'Orders routed through the host port', suites: ['suites/phase2/gateway.test.ts'] },
  { id: '2.3-redis-listening', epic: P2, feature: T23, title: 'Redis listening on 6379', suites: ['suites/phase2/product.test.ts', 'suites/containers/evidence.test.ts'] },
  { id: '2.3-product-reaches-redis', epic: P2, feature: T23, title: 'product-service reaches Redis (nc -zv)', suites: ['suites/phase2/product.test.ts', 'suites/containers/evidence.test.ts'] },
  { id: '2.4-order-listening', epic: P2, feature: T24, title: 'order-service listening on 5000', suites: ['suites/phase2/order.test.ts'] },
  { id: '2.4-postgres-running', epic: P2, feature: T24, title: 'PostgreSQL running (its process in postgres-db, or its container)', suites: ['suites/phase2/order.test.ts', 'suites/containers/evidence.test.ts'] },
  { id: '2.4-postgres-listening', epic: P2, feature: T24, title: 'PostgreSQL listening on 5432', suites: ['suites/phase2/order.test.ts', 'suites/containers/evidence.test.ts'] },
  { id: '2.4-order-reaches-postgres', epic: P2, feature: T24, title: 'order-service reaches PostgreSQL', suites: ['suites/phase2/order.test.ts', 'suites/containers/evidence.test.ts'] },
  { id: '2.4-order-written', epic: P2, feature: T24, title: 'An order written through the gateway', suites: ['suites/phase2/order.test.ts'] },
  { id: '2.4-order-read-back', epic: P2, feature: T24, title: 'The order row read back (SELECT * FROM orders)', suites: ['suites/phase2/order.test.ts'] },
];
