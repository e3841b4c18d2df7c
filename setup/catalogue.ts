/**
 * Faults learners make, each one small named change to learner/build.sh (the seed's commands and
 * Flask services as a learner types them), with the deliverables it must fail and the diagnosis
 * the grader must name. A mutant is killed when verify fails exactly those deliverables and names
 * that diagnosis on one of them. Every mutant runs in a virtual host of its own, PostgreSQL on the
 * host behind the bridge (where the seed's Docker publishes it) unless it says otherwise.
 */

/** Text of the build script (found exactly once, or everywhere with `all`) and what the learner typed instead. */
export interface Edit {
  find: string;
  typed: string;
  all?: boolean;
}

export interface Mutant {
  name: string;
  /** The learner's mistake, in a few words. */
  fault: string;
  edits: Edit[];
  /** Deliverable ids that must fail, and only those. */
  fails: string[];
  /** The diagnosis that must be named on them; or, for a build that only deviates (nothing may fail), the deviation that must be named. */
  diagnosis?: string;
  deviation?: string;
  /** The host's FORWARD as Docker leaves a GitHub runner's: policy DROP and Docker's chains (the build then adds accepts a learner may leave out). */
  forward?: 'docker';
  /** The build's environment over the suite's (LEARNER_SERVICES, LEARNER_POSTGRES). */
  env?: Record<string, string>;
}

/** learner/build.sh and the file it sources for Phase 2 (paths under learner/): a mutant's edits apply across both. */
export const buildFiles = ['build.sh', 'lib/services.sh'] as const;

/** The files with the learner's edits, each in the file that holds its text; each must apply, or the catalogue no longer matches the build. */
export function mutateFiles(files: Record<string, string>, edits: Edit[]): Record<string, string> {
  const out = { ...files };
  for (const e of edits) {
    const n = Object.values(out).reduce((sum, text) => sum + text.split(e.find).length - 1, 0);
    if (e.all ? n === 0 : n !== 1) throw new Error(`the edit's text occurs ${n} times in ${Object.keys(out).join(', ')}: ${JSON.stringify(e.find)}`);
    for (const [path, text] of Object.entries(out)) out[path] = text.split(e.find).join(e.typed);
  }
  return out;
}

/** One script with the learner's edits. */
export const mutate = (text: string, edits: Edit[]): string => mutateFiles({ script: text }, edits).script!;

/** The port forward as an external client uses it: every deliverable that goes through host:8080. */
const external = ['1.4-external-client', '1.4-traffic-flow', '2.1-health-host', '2.2-products-host', '2.2-orders-host'];
const orders = ['2.2-orders-namespace', '2.2-orders-host', '2.4-order-written', '2.4-order-read-back'];
const products = ['2.2-products-namespace', '2.2-products-host'];
/** The learner left a whole line out. */
const deleteLine = (line: string): Edit => ({ find: `${line}\n`, typed: '' });
const start = (ns: string, file: string) => `ip netns exec ${ns} python3 "$LEARNER_DIR/${file}.py"`;
const typo = (ns: string, file: string): Edit => ({ find: start(ns, file), typed: start(ns, file.replace('-', '_')) });
const postgresDb = [
  'ip link add veth-pg type veth peer name veth-pg-br',
  'ip link set veth-pg netns postgres-db',
  'ip link set veth-pg-br master br-app',
  'ip link set veth-pg-br up',
  'ip netns exec postgres-db ip addr add 10.0.0.60/16 dev veth-pg',
  'ip netns exec postgres-db ip link set veth-pg up',
  'ip netns exec postgres-db ip link set lo up',
  'ip netns exec postgres-db ip route add default via 10.0.0.1',
];

export const catalogue: Mutant[] = [
  {
    name: 'ip-forward-off',
    fault: 'IP forwarding switched off (sysctl ... =0)',
    edits: [{ find: 'sysctl -w net.ipv4.ip_forward=1', typed: 'sysctl -w net.ipv4.ip_forward=0' }],
    fails: ['1.3-internet', ...external],
    diagnosis: 'ip-forward-off',
  },
  {
    name: 'masquerade-missing',
    fault: 'no MASQUERADE rule',
    edits: [deleteLine('iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE')],
    fails: ['1.3-internet', '1.4-nat-rules'],
    diagnosis: 'masquerade-missing',
  },
  {
    name: 'masquerade-wrong-subnet',
    fault: 'MASQUERADE for 10.1.0.0/16',
    edits: [{ find: 'iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE', typed: 'iptables -t nat -A POSTROUTING -s 10.1.0.0/16 ! -o br-app -j MASQUERADE' }],
    fails: ['1.3-internet', '1.4-nat-rules'],
    diagnosis: 'masquerade-wrong-subnet',
  },
  {
    name: 'dnat-wrong-port',
    fault: 'DNAT from port 8081 instead of 8080',
    edits: [{ find: 'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT', typed: 'iptables -t nat -A PREROUTING -p tcp --dport 8081 -j DNAT' }],
    fails: ['1.4-nat-rules', ...external],
    diagnosis: 'dnat-missing',
  },
  {
    name: 'dnat-wrong-target-port',
    fault: "DNAT to nginx-lb's port 81",
    edits: [{ find: '-j DNAT --to-destination 10.0.0.10:80', typed: '-j DNAT --to-destination 10.0.0.10:81' }],
    fails: ['1.4-nat-rules', ...external],
    diagnosis: 'dnat-wrong-port',
  },
  {
    name: 'forward-return-missing',
    fault: 'no FORWARD accept into br-app under Docker policy DROP',
    edits: [deleteLine('  iptables -I FORWARD -o br-app -j ACCEPT')],
    fails: ['1.3-internet', '1.4-nat-rules'],
    diagnosis: 'forward-drops-egress',
    forward: 'docker',
  },
  {
    name: 'forward-out-missing',
    fault: 'no FORWARD accept out of br-app under Docker policy DROP',
    edits: [deleteLine('  iptables -I FORWARD -i br-app -j ACCEPT')],
    fails: ['1.3-internet', '1.4-nat-rules', ...external],
    diagnosis: 'forward-drops-dnat',
    forward: 'docker',
  },
  {
    name: 'namespace-missing',
    fault: 'postgres-db never created (PostgreSQL runs on the host, so nothing else breaks)',
    edits: [deleteLine('ip netns add postgres-db'), ...postgresDb.map(deleteLine)],
    fails: ['1.1-netns-list', '1.2-bridge', '1.2-veth', '1.2-diagram'],
    diagnosis: 'namespace-missing',
  },
  {
    name: 'address-wrong',
    fault: 'product-service given 10.0.0.31',
    edits: [{ find: 'ip netns exec product-service ip addr add 10.0.0.30/16 dev veth-product', typed: 'ip netns exec product-service ip addr add 10.0.0.31/16 dev veth-product' }],
    fails: ['1.2-diagram', '1.2-veth', '1.2-ping-nginx', '1.2-ping-gateway', ...products, '2.3-product-reaches-redis'],
    diagnosis: 'address-wrong',
  },
  {
    name: 'default-route-missing',
    fault: 'nginx-lb without its default route',
    edits: [deleteLine('ip netns exec nginx-lb ip route add default via 10.0.0.1')],
    fails: ['1.2-veth', ...external],
    diagnosis: 'default-route-missing',
  },
  {
    name: 'lo-down',
    fault: 'api-gateway with lo down',
    edits: [deleteLine('ip netns exec api-gateway ip link set lo up')],
    fails: ['1.2-veth', '2.2-health-inside', '2.2-products-namespace', '2.2-orders-namespace', '2.3-product-reaches-redis', '2.4-order-written', '2.4-order-read-back'],
    diagnosis: 'lo-down',
  },
  {
    name: 'veth-off-bridge',
    fault: "redis-cache's veth not attached to br-app",
    edits: [deleteLine('ip link set veth-redis-br master br-app')],
    // The seed's product service does not survive a Redis it cannot reach: products fail too.
    fails: ['1.2-diagram', '1.2-bridge', '2.3-redis-listening', '2.3-product-reaches-redis', ...products],
    diagnosis: 'veth-peer-detached',
  },
  {
    name: 'bridge-down',
    fault: 'br-app never set up',
    edits: [deleteLine('ip link set br-app up')],
    fails: [
      '1.2-diagram',
      '1.2-bridge',
      '1.2-ping-nginx',
      '1.2-ping-gateway',
      '1.3-internet',
      ...external,
      '2.1-health-namespace',
      '2.2-health-nginx',
      ...products,
      '2.2-orders-namespace',
      '2.3-redis-listening',
      '2.3-product-reaches-redis',
      '2.4-order-listening',
      '2.4-order-reaches-postgres',
      '2.4-order-written',
      '2.4-order-read-back',
    ],
    diagnosis: 'bridge-down',
  },
  {
    name: 'nginx-upstream-wrong',
    fault: "nginx's upstream on port 3001",
    edits: [{ find: '        server 10.0.0.20:3000;', typed: '        server 10.0.0.20:3001;' }],
    fails: ['2.2-products-host', '2.2-orders-host'],
    diagnosis: 'nginx-upstream-wrong',
  },
  {
    name: 'nginx-proxy-pass-wrong',
    fault: "nginx's proxy_pass straight to the gateway's address on a wrong port",
    edits: [{ find: '            proxy_pass http://api_gateway;', typed: '            proxy_pass http://10.0.0.20:3001;' }],
    fails: ['2.2-products-host', '2.2-orders-host'],
    diagnosis: 'nginx-upstream-wrong',
  },
  {
    name: 'nginx-real-ip-missing',
    fault: "nginx's configuration without `proxy_set_header X-Real-IP`",
    edits: [deleteLine('            proxy_set_header X-Real-IP \\$remote_addr;')],
    fails: ['2.2-products-host'],
    diagnosis: 'nginx-real-ip-missing',
  },
  {
    name: 'nginx-not-started',
    fault: 'nginx never started',
    edits: [deleteLine('ip netns exec nginx-lb nginx -c "$LEARNER_DIR/nginx/nginx.conf"')],
    fails: [...external, '2.1-health-namespace'],
    diagnosis: 'nginx-not-listening',
  },
  {
    name: 'gateway-not-started',
    fault: "the gateway's script path mistyped",
    edits: [typo('api-gateway', 'api-gateway')],
    fails: ['2.2-listening', '2.2-health-inside', '2.2-health-nginx', ...products, '2.2-orders-namespace', '2.2-orders-host', '2.3-product-reaches-redis', '2.4-order-written', '2.4-order-read-back'],
    diagnosis: 'gateway-not-listening',
  },
  {
    name: 'gateway-product-port',
    fault: "the gateway's PRODUCT_SERVICE on port 5001",
    edits: [{ find: 'PRODUCT_SERVICE = "http://10.0.0.30:5000"', typed: 'PRODUCT_SERVICE = "http://10.0.0.30:5001"' }],
    fails: [...products, '2.3-product-reaches-redis'],
    diagnosis: 'gateway-product-address-wrong',
  },
  {
    name: 'product-not-started',
    fault: "the product service's script path mistyped",
    edits: [typo('product-service', 'product-service')],
    fails: [...products, '2.3-product-reaches-redis'],
    diagnosis: 'product-not-listening',
  },
  {
    name: 'product-cache-unused',
    fault: 'the product service never uses the cache',
    edits: [
      {
        find: '    hit = cache.get(key)\n    if hit:\n        return json.loads(hit)\n    value = lookup()\n    if value is not None:\n        cache.setex(key, 300, json.dumps(value))\n    return value\n',
        typed: '    return lookup()\n',
      },
    ],
    fails: ['2.3-product-reaches-redis'],
    diagnosis: 'product-cache-unused',
  },
  {
    name: 'product-without-redis',
    fault: 'the product service pointed at Redis port 6380',
    edits: [{ find: "host='10.0.0.50', port=6379", typed: "host='10.0.0.50', port=6380" }],
    fails: [...products, '2.3-product-reaches-redis'],
    diagnosis: 'product-redis-address-wrong',
  },
  {
    name: 'redis-on-host',
    fault: 'Redis started on the host at 10.0.0.1 (where a container would be published), the product service left at 10.0.0.50',
    edits: [{ find: 'ip netns exec redis-cache redis-server --bind 10.0.0.50 --port 6379', typed: 'redis-server --bind 10.0.0.1 --port 6379' }],
    fails: [...products, '2.3-product-reaches-redis'],
    diagnosis: 'product-redis-address-wrong',
  },
  {
    name: 'redis-not-started',
    fault: 'redis-server mistyped',
    edits: [{ find: 'ip netns exec redis-cache redis-server --bind', typed: 'ip netns exec redis-cache redis-srv --bind' }],
    fails: ['2.3-redis-listening', '2.3-product-reaches-redis', ...products],
    diagnosis: 'redis-not-listening',
  },
  {
    name: 'order-not-started',
    fault: "the order service's script path mistyped",
    edits: [typo('order-service', 'order-service')],
    fails: ['2.4-order-listening', ...orders],
    diagnosis: 'order-not-listening',
  },
  {
    name: 'order-wrong-database',
    fault: "the order service left at the seed file's 10.0.0.60, where no PostgreSQL runs",
    edits: [deleteLine(`[ "$PG_MODE" = namespace ] || sed -i "s/host='10.0.0.60'/host='10.0.0.1'/" "$LEARNER_DIR/order-service.py"`)],
    fails: ['2.4-order-listening', ...orders],
    diagnosis: 'order-db-address-wrong',
  },
  {
    name: 'orders-table-missing',
    fault: 'the order service never creates its table (no init_db())',
    edits: [deleteLine('    init_db()')],
    fails: orders,
    diagnosis: 'orders-table-missing',
  },
  {
    name: 'orders-column-renamed',
    fault: "the orders table's quantity renamed qty, in the table and the INSERT",
    edits: [
      { find: '                quantity INTEGER,', typed: '                qty INTEGER,' },
      { find: 'INSERT INTO orders (customer_id, product_id, quantity, total_price)', typed: 'INSERT INTO orders (customer_id, product_id, qty, total_price)' },
    ],
    fails: ['2.4-order-read-back'],
    diagnosis: 'orders-columns-differ',
  },
  {
    name: 'postgres-loopback-only',
    fault: 'PostgreSQL listening on 127.0.0.1 only',
    edits: [{ find: '-c listen_addresses=10.0.0.1 -c port=5432', typed: '-c listen_addresses=127.0.0.1 -c port=5432' }],
    fails: ['2.4-postgres-running', '2.4-postgres-listening', '2.4-order-reaches-postgres', '2.4-order-listening', ...orders],
    diagnosis: 'postgres-loopback-only',
  },
  {
    name: 'bridge-br0-24',
    fault: 'the bridge named br0, with 10.0.0.1/24 (a deviation the grader accepts)',
    edits: [
      { find: 'br-app', typed: 'br0', all: true },
      { find: 'ip addr add 10.0.0.1/16 dev br0', typed: 'ip addr add 10.0.0.1/24 dev br0' },
    ],
    fails: [],
    deviation: 'bridge-renamed',
  },
  {
    name: 'masquerade-names-uplink',
    fault: "MASQUERADE naming the host's uplink (-o eth0) instead of ! -o br-app (a deviation the grader accepts)",
    edits: [{ find: '-s 10.0.0.0/16 ! -o br-app -j MASQUERADE', typed: '-s 10.0.0.0/16 -o eth0 -j MASQUERADE' }],
    fails: [],
    deviation: 'masquerade-names-uplink',
  },
  {
    name: 'forward-by-policy',
    fault: "the seed's FORWARD accept left out on a host whose FORWARD policy is ACCEPT (a deviation the grader accepts)",
    edits: [deleteLine('iptables -A FORWARD -p tcp -d 10.0.0.10 --dport 80 -j ACCEPT')],
    fails: [],
    deviation: 'forward-by-policy',
  },
  {
    name: 'nginx-without-health',
    fault: "nginx's configuration without the /health location (a deviation the grader accepts)",
    edits: [{ find: '        location /health {\n            return 200 "OK\\n";\n            add_header Content-Type text/plain;\n        }\n', typed: '' }],
    fails: [],
    deviation: 'nginx-no-health',
  },
];

/** The build unmutated, in each way a learner may run it: each must score every deliverable. */
export const unmutated: { name: string; env: Record<string, string>; forward?: 'docker' }[] = [
  { name: 'unmutated-flask-pg-host', env: { LEARNER_POSTGRES: 'host' } },
  { name: 'unmutated-flask-pg-namespace', env: { LEARNER_POSTGRES: 'namespace' } },
  { name: 'unmutated-flask-docker-forward', env: { LEARNER_POSTGRES: 'host' }, forward: 'docker' },
  { name: 'unmutated-ecomnet-services', env: { LEARNER_POSTGRES: 'host', LEARNER_SERVICES: 'ecomnet' } },
];
