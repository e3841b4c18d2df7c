/** The seed's screenshots, in the seed's order: each becomes evidence captured by the grader's checks. */
export interface Deliverable {
  id: string;
  /** The seed task it belongs to (`1.2`): what `verify --only` selects. */
  task: string;
  /** Its points in the score (the seed's screenshots weigh alike). */
  points: number;
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

/** The seed's tasks, which group its screenshots. */
const task = {
  namespaces: '1.1 Create network namespaces',
  bridge: '1.2 Build a virtual bridge network',
  nat: '1.3 NAT for internet access',
  portForward: '1.4 Port forwarding',
  nginx: '2.1 Nginx load balancer',
  gateway: '2.2 API gateway',
  product: '2.3 Product service with Redis',
  order: '2.4 Order service with PostgreSQL',
};
/** The test files that prove deliverables, relative to the repository root. */
const suite = {
  namespaces: 'suites/phase1/namespaces.test.ts',
  bridge: 'suites/phase1/bridge.test.ts',
  reachability: 'suites/phase1/reachability.test.ts',
  egress: 'suites/phase1/egress.test.ts',
  portForward: 'suites/phase1/port-forward.test.ts',
  rules: 'suites/phase1/rules.test.ts',
  nginx: 'suites/phase2/nginx.test.ts',
  gateway: 'suites/phase2/gateway.test.ts',
  product: 'suites/phase2/product.test.ts',
  order: 'suites/phase2/order.test.ts',
  containers: 'suites/containers/evidence.test.ts',
};
const phase = { primitives: 'Phase 1: Linux primitives', services: 'Phase 2: Application services' } as const;

export const deliverables: Deliverable[] = [
  { id: '1.1-netns-list', task: '1.1', points: 1, epic: phase.primitives, feature: task.namespaces, title: 'All namespaces created (ip netns list)', suites: [suite.namespaces] },
  { id: '1.2-diagram', task: '1.2', points: 1, epic: phase.primitives, feature: task.bridge, title: 'Network diagram of the live setup', suites: [suite.bridge] },
  { id: '1.2-bridge', task: '1.2', points: 1, epic: phase.primitives, feature: task.bridge, title: 'Bridge br-app with its connected interfaces', suites: [suite.bridge] },
  { id: '1.2-veth', task: '1.2', points: 1, epic: phase.primitives, feature: task.bridge, title: 'veth pairs (ip link show type veth)', suites: [suite.bridge] },
  { id: '1.2-ping-nginx', task: '1.2', points: 1, epic: phase.primitives, feature: task.bridge, title: 'Ping nginx-lb -> api-gateway and -> product-service', suites: [suite.reachability] },
  { id: '1.2-ping-gateway', task: '1.2', points: 1, epic: phase.primitives, feature: task.bridge, title: 'Ping api-gateway -> product-service and -> order-service', suites: [suite.reachability] },
  { id: '1.3-internet', task: '1.3', points: 1, epic: phase.primitives, feature: task.nat, title: 'Internet connectivity from product-service (simulated internet)', suites: [suite.egress] },
  { id: '1.4-external-client', task: '1.4', points: 1, epic: phase.primitives, feature: task.portForward, title: 'External client reaches nginx through port 8080', suites: [suite.portForward] },
  {
    id: '1.4-nat-rules',
    task: '1.4',
    points: 1,
    epic: phase.primitives,
    feature: task.portForward,
    title: 'NAT rules (iptables -t nat -L -v -n)',
    suites: [suite.rules],
  },
  {
    id: '1.4-traffic-flow',
    task: '1.4',
    points: 1,
    epic: phase.primitives,
    feature: task.portForward,
    title: 'Traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80',
    suites: [suite.portForward],
  },
  { id: '2.1-health-host', task: '2.1', points: 1, epic: phase.services, feature: task.nginx, title: 'nginx /health from the host', suites: [suite.nginx] },
  { id: '2.1-health-namespace', task: '2.1', points: 1, epic: phase.services, feature: task.nginx, title: 'nginx /health from another namespace', suites: [suite.nginx] },
  { id: '2.2-listening', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Gateway listening on 3000 (ss -lntp)', suites: [suite.gateway] },
  { id: '2.2-health-inside', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Gateway /health inside its namespace', suites: [suite.gateway] },
  { id: '2.2-health-nginx', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Gateway /health from nginx-lb', suites: [suite.gateway] },
  { id: '2.2-products-namespace', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Products routed from the gateway namespace', suites: [suite.gateway] },
  { id: '2.2-products-host', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Products routed through the host port', suites: [suite.gateway] },
  { id: '2.2-orders-namespace', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Orders routed from the gateway namespace', suites: [suite.gateway] },
  { id: '2.2-orders-host', task: '2.2', points: 1, epic: phase.services, feature: task.gateway, title: 'Orders routed through the host port', suites: [suite.gateway] },
  { id: '2.3-redis-listening', task: '2.3', points: 1, epic: phase.services, feature: task.product, title: 'Redis listening on 6379', suites: [suite.product, suite.containers] },
  {
    id: '2.3-product-reaches-redis',
    task: '2.3',
    points: 1,
    epic: phase.services,
    feature: task.product,
    title: 'product-service reaches Redis (nc -zv)',
    suites: [suite.product, suite.containers],
  },
  { id: '2.4-order-listening', task: '2.4', points: 1, epic: phase.services, feature: task.order, title: 'order-service listening on 5000', suites: [suite.order] },
  {
    id: '2.4-postgres-running',
    task: '2.4',
    points: 1,
    epic: phase.services,
    feature: task.order,
    title: 'PostgreSQL running (its process in postgres-db, or its container)',
    suites: [suite.order, suite.containers],
  },
  { id: '2.4-postgres-listening', task: '2.4', points: 1, epic: phase.services, feature: task.order, title: 'PostgreSQL listening on 5432', suites: [suite.order, suite.containers] },
  {
    id: '2.4-order-reaches-postgres',
    task: '2.4',
    points: 1,
    epic: phase.services,
    feature: task.order,
    title: 'order-service reaches PostgreSQL',
    suites: [suite.order, suite.containers],
  },
  { id: '2.4-order-written', task: '2.4', points: 1, epic: phase.services, feature: task.order, title: 'An order written through the gateway', suites: [suite.order] },
  { id: '2.4-order-read-back', task: '2.4', points: 1, epic: phase.services, feature: task.order, title: 'The order row read back (SELECT * FROM orders)', suites: [suite.order] },
];

/** Phase 1 (tasks 1.x) or Phase 2 (tasks 2.x). */
export const phaseOf = (d: Deliverable): 1 | 2 => (d.task.startsWith('1.') ? 1 : 2);

/**
 * The deliverables `spec` selects: a comma-separated list of tasks (`1.2`), phases (`phase1`) or
 * deliverable ids (`2.4-order-written`); all when there is none. An entry that selects nothing is
 * refused, naming what there is.
 */
export function selectDeliverables(spec: string | undefined): Deliverable[] {
  if (!spec?.trim()) return deliverables;
  const wanted = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const picks = (w: string) => (d: Deliverable) => d.id === w || d.task === w || `phase${phaseOf(d)}` === w.replace(/^phase\s*/, 'phase');
  for (const w of wanted) {
    if (!deliverables.some(picks(w)))
      throw new Error(
        `--only ${w}: no such task, phase or deliverable (tasks: ${[...new Set(deliverables.map((d) => d.task))].join(', ')}; phases: phase1, phase2; or an id such as ${deliverables[0]!.id})`,
      );
  }
  return deliverables.filter((d) => wanted.some((w) => picks(w)(d)));
}
