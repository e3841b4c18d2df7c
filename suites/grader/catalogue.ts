/**
 * Faults learners make, each one small named change to learner/build.sh (the seed's commands as a
 * learner types them), with the deliverables it must fail and the diagnosis verify must name.
 * A mutant is killed when verify fails exactly those deliverables and names that diagnosis.
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
  /** Only meaningful where Docker has set FORWARD's policy to DROP (the build adds its accepts only there). */
  needsForwardDrop?: boolean;
  /** Its edits name the host's real uplink as `{uplink}` (its default route's device): only where there is one. */
  needsUplink?: boolean;
}

/** The script with the learner's edits; each must apply, or the catalogue no longer matches the script. */
export function mutate(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of edits) {
    const n = out.split(e.find).length - 1;
    if (e.all ? n === 0 : n !== 1) throw new Error(`the edit's text occurs ${n} times in learner/build.sh: ${JSON.stringify(e.find)}`);
    out = out.split(e.find).join(e.typed);
  }
  return out;
}

/** The port forward as an external client uses it: every deliverable that goes through host:8080. */
const external = ['1.4-external-client', '1.4-traffic-flow', '2.1-health-host', '2.2-products-host', '2.2-orders-host'];
const orders = ['2.2-orders-namespace', '2.2-orders-host', '2.4-order-written', '2.4-order-read-back'];
const products = ['2.2-products-namespace', '2.2-products-host'];
/** The learner left a whole line out. */
const deleteLine = (line: string): Edit => ({ find: `${line}\n`, typed: '' });
const main = (service: string) => `ip netns exec ${service} "$NODE" "$REPO/src/services/main.ts"`;
const typo = (service: string) => `ip netns exec ${service} "$NODE" "$REPO/src/services/mian.ts"`;

export const catalogue: Mutant[] = [
  {
    name: 'ip-forward-off',
    fault: 'IP forwarding switched off (sysctl ... =0)',
    edits: [{ find: 'sysctl -w net.ipv4.ip_forward=1', typed: 'sysctl -w net.ipv4.ip_forward=0' }],
    fails: ['1.2-diagram', '1.3-internet', ...external],
    diagnosis: 'ip-forward-off',
  },
  {
    name: 'masquerade-missing',
    fault: 'no MASQUERADE rule',
    edits: [deleteLine('iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE')],
    fails: ['1.2-diagram', '1.3-internet', '1.4-nat-rules'],
    diagnosis: 'masquerade-missing',
  },
  {
    name: 'masquerade-wrong-subnet',
    fault: 'MASQUERADE for 10.1.0.0/16',
    edits: [{ find: 'iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE', typed: 'iptables -t nat -A POSTROUTING -s 10.1.0.0/16 ! -o br-app -j MASQUERADE' }],
    fails: ['1.2-diagram', '1.3-internet', '1.4-nat-rules'],
    diagnosis: 'masquerade-wrong-subnet',
  },
  {
    name: 'dnat-wrong-port',
    fault: 'DNAT from port 8081 instead of 8080',
    edits: [
      {
        find: 'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80',
        typed: 'iptables -t nat -A PREROUTING -p tcp --dport 8081 -j DNAT --to-destination 10.0.0.10:80',
      },
    ],
    fails: ['1.2-diagram', '1.4-nat-rules', ...external],
    diagnosis: 'dnat-missing',
  },
  {
    name: 'dnat-wrong-target-port',
    fault: "DNAT to nginx-lb's port 81",
    edits: [
      {
        find: 'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80',
        typed: 'iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:81',
      },
    ],
    fails: ['1.2-diagram', '1.4-nat-rules', ...external],
    diagnosis: 'dnat-wrong-port',
  },
  {
    name: 'forward-return-missing',
    fault: 'no FORWARD accept into br-app under policy DROP',
    edits: [deleteLine('  iptables -I FORWARD -o br-app -j ACCEPT')],
    fails: ['1.3-internet', '1.4-nat-rules'],
    diagnosis: 'forward-drops-egress',
    needsForwardDrop: true,
  },
  {
    name: 'forward-out-missing',
    fault: 'no FORWARD accept out of br-app under policy DROP',
    edits: [deleteLine('  iptables -I FORWARD -i br-app -j ACCEPT')],
    fails: ['1.3-internet', '1.4-nat-rules', ...external],
    diagnosis: 'forward-drops-dnat',
    needsForwardDrop: true,
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
    fails: ['1.2-diagram', '1.2-bridge', '2.3-redis-listening', '2.3-product-reaches-redis'],
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
    name: 'nginx-not-started',
    fault: 'nginx never started',
    edits: [deleteLine('ip netns exec nginx-lb nginx -c "$LEARNER_DIR/nginx/nginx.conf"')],
    fails: ['1.2-diagram', ...external, '2.1-health-namespace'],
    diagnosis: 'nginx-not-listening',
  },
  {
    name: 'gateway-not-started',
    fault: "the gateway's script path mistyped",
    edits: [{ find: main('api-gateway'), typed: typo('api-gateway') }],
    fails: [
      '1.2-diagram',
      '2.2-listening',
      '2.2-health-inside',
      '2.2-health-nginx',
      ...products,
      '2.2-orders-namespace',
      '2.2-orders-host',
      '2.3-product-reaches-redis',
      '2.4-order-written',
      '2.4-order-read-back',
    ],
    diagnosis: 'gateway-not-listening',
  },
  {
    name: 'product-not-started',
    fault: "the product service's script path mistyped",
    edits: [{ find: main('product-service'), typed: typo('product-service') }],
    fails: ['1.2-diagram', ...products, '2.3-product-reaches-redis'],
    diagnosis: 'product-not-listening',
  },
  {
    name: 'order-not-started',
    fault: "the order service's script path mistyped",
    edits: [{ find: main('order-service'), typed: typo('order-service') }],
    fails: ['1.2-diagram', '2.4-order-listening', ...orders],
    diagnosis: 'order-not-listening',
  },
  {
    name: 'redis-not-started',
    fault: 'redis-server mistyped',
    edits: [{ find: 'ip netns exec redis-cache redis-server --bind', typed: 'ip netns exec redis-cache redis-srv --bind' }],
    fails: ['1.2-diagram', '2.3-redis-listening', '2.3-product-reaches-redis'],
    diagnosis: 'redis-not-listening',
  },
  {
    name: 'product-without-redis',
    fault: 'the product service pointed at Redis port 6380',
    edits: [{ find: '"redisUrl": "redis://10.0.0.50:6379"', typed: '"redisUrl": "redis://10.0.0.50:6380"' }],
    fails: ['2.3-product-reaches-redis'],
    diagnosis: 'product-redis-address-wrong',
  },
  {
    name: 'order-wrong-database',
    fault: 'the order service pointed at 10.0.0.60, where no PostgreSQL runs',
    edits: [{ find: '"pgUrl": "postgres://postgres:postgres@10.0.0.1:5432/orders"', typed: '"pgUrl": "postgres://postgres:postgres@10.0.0.60:5432/orders"' }],
    fails: ['1.2-diagram', '2.4-order-listening', ...orders],
    diagnosis: 'order-db-address-wrong',
  },
  {
    name: 'postgres-loopback-only',
    fault: 'PostgreSQL listening on 127.0.0.1 only',
    edits: [{ find: '-c listen_addresses=10.0.0.1 -c port=5432', typed: '-c listen_addresses=127.0.0.1 -c port=5432' }],
    fails: ['1.2-diagram', '2.4-postgres-running', '2.4-postgres-listening', '2.4-order-reaches-postgres', '2.4-order-listening', ...orders],
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
    fault: "MASQUERADE naming the host's real uplink (-o eth0) instead of ! -o br-app (a deviation the grader accepts)",
    edits: [{ find: '-s 10.0.0.0/16 ! -o br-app -j MASQUERADE', typed: '-s 10.0.0.0/16 -o {uplink} -j MASQUERADE' }],
    fails: [],
    deviation: 'masquerade-names-uplink',
    needsUplink: true,
  },
  {
    name: 'nginx-without-health',
    fault: "nginx's configuration without the /health location (a deviation the grader accepts)",
    edits: [{ find: '        location /health {\n            return 200 "OK\\n";\n            add_header Content-Type text/plain;\n        }\n', typed: '' }],
    fails: [],
    deviation: 'nginx-no-health',
  },
];
