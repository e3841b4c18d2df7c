/**
 * What the seed (shared/seed/container-networking-project.md) says, in its own literals: the
 * contract the grader holds any build of the lab to, whoever built it. Deliberately not derived
 * from src/topology/default.ts or src/plan, so a check cannot pass by agreeing with the code it
 * checks; suites/unit/seed.test.ts holds the topology to these values.
 */

/**
 * Task 1.1's namespaces with task 1.2's addresses, the ports tasks 2.1-2.4 listen on, and how the
 * seed's own commands ask each service (curl .../health, redis-cli, psql).
 */
export const namespaces = [
  { name: 'nginx-lb', ip: '10.0.0.10', port: 80, protocol: 'http' },
  { name: 'api-gateway', ip: '10.0.0.20', port: 3000, protocol: 'http' },
  { name: 'product-service', ip: '10.0.0.30', port: 5000, protocol: 'http' },
  { name: 'order-service', ip: '10.0.0.40', port: 5000, protocol: 'http' },
  { name: 'redis-cache', ip: '10.0.0.50', port: 6379, protocol: 'redis' },
  { name: 'postgres-db', ip: '10.0.0.60', port: 5432, protocol: 'postgres' },
] as const;

/** Task 1.2: `ip addr add 10.0.0.1/16 dev br-app`, and the veth pair it spells out for nginx-lb. */
export const bridge = { name: 'br-app', ip: '10.0.0.1', prefix: 16 } as const;
export const nginxVeth = { inside: 'veth-nginx', onBridge: 'veth-nginx-br' } as const;

/** Tasks 1.3 and 1.4: the three rules, as the seed types them. */
export const rules = {
  masquerade: { table: 'nat', chain: 'POSTROUTING', source: '10.0.0.0/16', notOut: 'br-app' },
  dnat: { table: 'nat', chain: 'PREROUTING', proto: 'tcp', dport: 8080, to: '10.0.0.10:80' },
  forward: { table: 'filter', chain: 'FORWARD', proto: 'tcp', destination: '10.0.0.10', dport: 80 },
} as const;

/** Task 2.1's nginx.conf and its /health answer. */
export const nginx = { realIpHeader: 'X-Real-IP', health: 'OK\n' } as const;

/** Task 2.2's gateway /health body. */
export const health = { gateway: { status: 'healthy', service: 'api-gateway' } } as const;

/** Task 2.3's PRODUCTS, in order, and its cache: SETEX all_products / product_<id> for 300 s. */
export const products = [
  { id: '1', name: 'Laptop', price: 999.99, stock: 50 },
  { id: '2', name: 'Mouse', price: 29.99, stock: 200 },
  { id: '3', name: 'Keyboard', price: 79.99, stock: 150 },
];
export const productNotFound = { error: 'Product not found' };
export const cache = { allKey: 'all_products', keyOf: (id: string) => `product_${id}`, ttlSeconds: 300 } as const;

/** Task 2.4's POST body, and the row psql prints back for it (DECIMAL(10, 2)). */
export const order = { customer_id: 'cust-101', product_id: 'prod-201', quantity: 2, total_price: 150.0 };
export const orderRow = 'cust-101,prod-201,2,150.00';
export const orderCreated = { status: 'created' };

/** Task 2.4's logins: `docker run -e POSTGRES_PASSWORD=postgres`, database orders; Redis with no password. Public, so never redacted. */
export const seedLogin = { user: 'postgres', password: 'postgres', database: 'orders' } as const;
