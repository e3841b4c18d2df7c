/** The seed's screenshots, in the seed's order: each becomes evidence captured by the grader's checks. */
export interface Deliverable {
  id: string;
  /** The seed task it belongs to (`1.2`): what `verify --only` selects. */
  task: string;
  /** Its points in the score (the seed's screenshots weigh alike). */
  points: number;
  /** Phase 1 (foundation) or Phase 2 (application services); course day 6 is an epic of its own (src/grader/day6/deliverables.ts). */
  epic: 'Phase 1: Linux primitives' | 'Phase 2: Application services' | 'Course day 6: two hosts';
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

/** One of the seed's screenshots as a deliverable: its task is its id's first part, its phase the task's, a point each (the seed's screenshots weigh alike). */
const screenshot = (id: string, feature: string, title: string, suites: string[]): Deliverable => {
  const t = id.split('-')[0]!;
  return { id, task: t, points: 1, epic: t.startsWith('1.') ? phase.primitives : phase.services, feature, title, suites };
};

export const deliverables: Deliverable[] = [
  screenshot('1.1-netns-list', task.namespaces, 'All namespaces created (ip netns list)', [suite.namespaces]),
  screenshot('1.2-diagram', task.bridge, 'Network diagram of the live setup', [suite.bridge]),
  screenshot('1.2-bridge', task.bridge, 'Bridge br-app with its connected interfaces', [suite.bridge]),
  screenshot('1.2-veth', task.bridge, 'veth pairs (ip link show type veth)', [suite.bridge]),
  screenshot('1.2-ping-nginx', task.bridge, 'Ping nginx-lb -> api-gateway and -> product-service', [suite.reachability]),
  screenshot('1.2-ping-gateway', task.bridge, 'Ping api-gateway -> product-service and -> order-service', [suite.reachability]),
  screenshot('1.3-internet', task.nat, 'Internet connectivity from product-service (simulated internet)', [suite.egress]),
  screenshot('1.4-external-client', task.portForward, 'External client reaches nginx through port 8080', [suite.portForward]),
  screenshot('1.4-nat-rules', task.portForward, 'NAT rules (iptables -t nat -L -v -n)', [suite.rules]),
  screenshot('1.4-traffic-flow', task.portForward, 'Traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80', [suite.portForward]),
  screenshot('2.1-health-host', task.nginx, 'nginx /health from the host', [suite.nginx]),
  screenshot('2.1-health-namespace', task.nginx, 'nginx /health from another namespace', [suite.nginx]),
  screenshot('2.2-listening', task.gateway, 'Gateway listening on 3000 (ss -lntp)', [suite.gateway]),
  screenshot('2.2-health-inside', task.gateway, 'Gateway /health inside its namespace', [suite.gateway]),
  screenshot('2.2-health-nginx', task.gateway, 'Gateway /health from nginx-lb', [suite.gateway]),
  screenshot('2.2-products-namespace', task.gateway, 'Products routed from the gateway namespace', [suite.gateway]),
  screenshot('2.2-products-host', task.gateway, 'Products routed through the host port', [suite.gateway]),
  screenshot('2.2-orders-namespace', task.gateway, 'Orders routed from the gateway namespace', [suite.gateway]),
  screenshot('2.2-orders-host', task.gateway, 'Orders routed through the host port', [suite.gateway]),
  screenshot('2.3-redis-listening', task.product, 'Redis listening on 6379', [suite.product, suite.containers]),
  screenshot('2.3-product-reaches-redis', task.product, 'product-service reaches Redis (nc -zv)', [suite.product, suite.containers]),
  screenshot('2.4-order-listening', task.order, 'order-service listening on 5000', [suite.order]),
  screenshot('2.4-postgres-running', task.order, 'PostgreSQL running (its process in postgres-db, or its container)', [suite.order, suite.containers]),
  screenshot('2.4-postgres-listening', task.order, 'PostgreSQL listening on 5432', [suite.order, suite.containers]),
  screenshot('2.4-order-reaches-postgres', task.order, 'order-service reaches PostgreSQL', [suite.order, suite.containers]),
  screenshot('2.4-order-written', task.order, 'An order written through the gateway', [suite.order]),
  screenshot('2.4-order-read-back', task.order, 'The order row read back (SELECT * FROM orders)', [suite.order]),
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
