import { describe, expect, it } from 'vitest';
import { bridge, namespaces } from '../../src/grader/contract.ts';
import { deviations, diagnose, type Finding, gatherServiceFacts, type ServiceFacts } from '../../src/grader/diagnose.ts';
import { judgeRules } from '../../src/grader/judge.ts';
import { pgLogin, redisLogin } from '../../src/grader/logins.ts';
import type { HostModel, Link, Namespace } from '../../src/grader/model.ts';
import { nginxConfigPath, nginxRoutes, notProbed, parseNginx, targetIn } from '../../src/grader/service-facts.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { probeVantage, type Vantage } from '../../src/grader/vantage.ts';

/**
 * Diagnosis on hand-made models: the seed's lab as the seed builds it (PostgreSQL in postgres-db,
 * the Flask services, the three rules), then one fault at a time, each expected to come back as
 * exactly one finding with its id and the deliverables it takes down.
 */

const VETH: Record<string, [string, string]> = {
  'nginx-lb': ['veth-nginx', 'veth-nginx-br'],
  'api-gateway': ['veth-api', 'veth-api-br'],
  'product-service': ['veth-product', 'veth-product-br'],
  'order-service': ['veth-order', 'veth-order-br'],
  'redis-cache': ['veth-redis', 'veth-redis-br'],
  'postgres-db': ['veth-pg', 'veth-pg-br'],
};

const PROCESS: Record<string, { comm: string; argv: string[] }> = {
  'nginx-lb': { comm: 'nginx', argv: ['nginx: master process nginx -c /tmp/nginx/nginx.conf'] },
  'api-gateway': { comm: 'python3', argv: ['python3', '/tmp/api-gateway.py'] },
  'product-service': { comm: 'python3', argv: ['python3', '/tmp/product-service.py'] },
  'order-service': { comm: 'python3', argv: ['python3', '/tmp/order-service.py'] },
  'redis-cache': { comm: 'redis-server', argv: ['redis-server *:6379'] },
  'postgres-db': { comm: 'postgres', argv: ['/usr/lib/postgresql/15/bin/postgres', '-D', '/var/lib/postgresql/15/main'] },
};

const SEED_RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80
-A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
`;

/** The seed's lab, healthy. */
function seedLab(): HostModel {
  const nsOf = (n: (typeof namespaces)[number], i: number): Namespace => {
    const [inside, peer] = VETH[n.name]!;
    return {
      name: n.name,
      links: [
        { name: 'lo', kind: 'loopback', up: true, operstate: 'UNKNOWN', addresses: [{ ip: '127.0.0.1', prefix: 8 }] },
        { name: inside, kind: 'veth', up: true, operstate: 'UP', addresses: [{ ip: n.ip, prefix: 16 }], peer: { name: peer } },
      ],
      routes: [
        { dst: 'default', via: bridge.ip, dev: inside },
        { dst: '10.0.0.0/16', dev: inside },
      ],
      listeners: [{ proto: 'tcp', address: '0.0.0.0', port: n.port, pid: 100 + i, process: PROCESS[n.name]!.comm }],
      processes: [{ pid: 100 + i, ...PROCESS[n.name]! }],
    };
  };
  return {
    at: '2026-11-27T00:00:00.000Z',
    host: {
      links: [
        { name: 'lo', kind: 'loopback', up: true, operstate: 'UNKNOWN', addresses: [{ ip: '127.0.0.1', prefix: 8 }] },
        { name: 'eth0', kind: 'ether', up: true, operstate: 'UP', addresses: [{ ip: '192.168.56.104', prefix: 24 }] },
        { name: bridge.name, kind: 'bridge', up: true, operstate: 'UP', addresses: [{ ip: bridge.ip, prefix: 16 }] },
        ...namespaces.map((n): Link => ({ name: VETH[n.name]![1], kind: 'veth', up: true, operstate: 'UP', master: bridge.name, addresses: [], peer: { namespace: n.name, name: VETH[n.name]![0] } })),
      ],
      routes: [
        { dst: 'default', via: '192.168.56.1', dev: 'eth0' },
        { dst: '10.0.0.0/16', dev: bridge.name },
        { dst: '192.168.56.0/24', dev: 'eth0' },
      ],
      listeners: [{ proto: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd' }],
    },
    namespaces: namespaces.map(nsOf),
    sysctl: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': null },
    iptables: { backend: 'nft', save: SEED_RULES },
  };
}

/** What gatherServiceFacts reads from the seed's lab after a GET /api/products. */
function seedFacts(): ServiceFacts {
  return {
    nginx: { configPath: '/tmp/nginx/nginx.conf', upstream: ['10.0.0.20:3000'], health: true, realIp: true },
    postgres: { host: '10.0.0.60', port: 5432, user: 'postgres', database: 'orders', reachable: true, authOk: true, databaseExists: true, ordersTable: true },
    redis: { host: '10.0.0.50', port: 6379, reachable: true, allProducts: true, allProductsTtl: 287 },
    orderDb: { host: '10.0.0.60', port: 5432, source: '/tmp/order-service.py' },
    productRedis: { host: '10.0.0.50', port: 6379, source: '/tmp/product-service.py' },
  };
}

const ns = (m: HostModel, name: string) => m.namespaces.find((n) => n.name === name)!;
const inside = (m: HostModel, name: string) => ns(m, name).links.find((l) => l.kind === 'veth')!;
const hostEnd = (m: HostModel, name: string) => m.host.links.find((l) => l.name === VETH[name]![1])!;
/** A namespace deleted: its veth pair goes with it. */
function dropNamespace(m: HostModel, name: string): void {
  m.namespaces = m.namespaces.filter((n) => n.name !== name);
  m.host.links = m.host.links.filter((l) => l.name !== VETH[name]![1]);
}
const rules = (m: HostModel, edit: (save: string) => string) => {
  m.iptables.save = edit(m.iptables.save);
};

// Deliverable groups, in the catalogue's order when combined through `ids`.
const EXT = ['1.4-external-client', '1.4-traffic-flow', '2.1-health-host', '2.2-products-host', '2.2-orders-host'];
const ORDERS = ['2.2-orders-namespace', '2.2-orders-host', '2.4-order-written', '2.4-order-read-back'];
const PRODUCTS = ['2.2-products-namespace', '2.2-products-host'];
/** Deliverable ids in the catalogue's order, so expectations read as sets. */
const ids = (...groups: (string | string[])[]) => {
  const want = new Set(groups.flat());
  for (const id of want) if (!deliverables.some((d) => d.id === id)) throw new Error(`no deliverable ${id}`);
  return deliverables.map((d) => d.id).filter((id) => want.has(id));
};

/** The diagnosis with the rules judged as verify judges them: from `vantage`, or from the host's own uplink. */
const diagnosed = (m: HostModel, facts: ServiceFacts = {}, vantage?: Vantage) => diagnose(m, judgeRules(m, vantage), facts);
const deviated = (m: HostModel, facts: ServiceFacts = {}) => deviations(m, judgeRules(m), facts);

function only(m: HostModel, facts: ServiceFacts = seedFacts(), vantage?: Vantage): Finding {
  const found = diagnosed(m, facts, vantage);
  expect(found.map((f) => f.id)).toHaveLength(1);
  return found[0]!;
}

interface Case {
  name: string;
  id: string;
  deliverables: string[];
  model?: (m: HostModel) => void;
  facts?: (f: ServiceFacts) => void;
  vantage?: Vantage;
}

const cases: Case[] = [
  {
    name: 'order-service deleted',
    id: 'namespace-missing',
    model: (m) => dropNamespace(m, 'order-service'),
    deliverables: ids('1.1-netns-list', '1.2-bridge', '1.2-veth', '1.2-diagram', '1.2-ping-gateway', ORDERS, '2.4-order-listening', '2.4-order-reaches-postgres'),
  },
  {
    name: 'no bridge',
    id: 'bridge-missing',
    model: (m) => {
      m.host.links = m.host.links.filter((l) => l.name !== bridge.name).map(({ master: _, ...l }) => l);
      m.host.routes = m.host.routes.filter((r) => r.dev !== bridge.name);
    },
    deliverables: ids(
      '1.2-bridge',
      '1.2-veth',
      '1.2-diagram',
      '1.2-ping-nginx',
      '1.2-ping-gateway',
      '1.3-internet',
      EXT,
      '2.1-health-namespace',
      '2.2-health-nginx',
      PRODUCTS,
      ORDERS,
      '2.3-product-reaches-redis',
      '2.4-postgres-listening',
      '2.4-order-reaches-postgres',
    ),
  },
  {
    name: 'bridge down',
    id: 'bridge-down',
    model: (m) => {
      m.host.links.find((l) => l.name === bridge.name)!.up = false;
    },
    deliverables: ids(
      '1.2-bridge',
      '1.2-veth',
      '1.2-diagram',
      '1.2-ping-nginx',
      '1.2-ping-gateway',
      '1.3-internet',
      EXT,
      '2.1-health-namespace',
      '2.2-health-nginx',
      PRODUCTS,
      ORDERS,
      '2.3-product-reaches-redis',
      '2.4-postgres-listening',
      '2.4-order-reaches-postgres',
    ).filter((d) => d !== '1.2-veth'),
  },
  {
    name: 'bridge without 10.0.0.1',
    id: 'bridge-address-missing',
    model: (m) => {
      m.host.links.find((l) => l.name === bridge.name)!.addresses = [];
    },
    deliverables: ids('1.2-bridge', '1.2-diagram', '1.3-internet', EXT, '2.4-postgres-listening', '2.4-order-read-back'),
  },
  {
    name: 'bridge 10.0.0.1/28 (leaves out .20-.60)',
    id: 'bridge-address-wrong',
    model: (m) => {
      m.host.links.find((l) => l.name === bridge.name)!.addresses = [{ ip: bridge.ip, prefix: 28 }];
    },
    deliverables: ids('1.2-bridge', '1.2-diagram', '1.3-internet', EXT, '2.4-postgres-listening', '2.4-order-read-back'),
  },
  {
    name: "api-gateway's veth gone",
    id: 'veth-missing',
    model: (m) => {
      ns(m, 'api-gateway').links = ns(m, 'api-gateway').links.filter((l) => l.kind !== 'veth');
      ns(m, 'api-gateway').routes = [];
      m.host.links = m.host.links.filter((l) => l.name !== 'veth-api-br');
    },
    deliverables: ids('1.2-bridge', '1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '2.1-health-namespace', '2.2-health-nginx', PRODUCTS, ORDERS, '2.3-product-reaches-redis'),
  },
  {
    name: "product-service's veth down",
    id: 'veth-down',
    model: (m) => {
      inside(m, 'product-service').up = false;
    },
    deliverables: ids('1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '1.3-internet', PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: "product-service's peer on no bridge",
    id: 'veth-peer-detached',
    model: (m) => {
      delete hostEnd(m, 'product-service').master;
    },
    deliverables: ids('1.2-bridge', '1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '1.3-internet', PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: "product-service's peer down",
    id: 'veth-peer-down',
    model: (m) => {
      hostEnd(m, 'product-service').up = false;
    },
    deliverables: ids('1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '1.3-internet', PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'product-service at 10.0.0.31',
    id: 'address-wrong',
    model: (m) => {
      inside(m, 'product-service').addresses = [{ ip: '10.0.0.31', prefix: 16 }];
    },
    deliverables: ids('1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '1.3-internet', PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'product-service without an address',
    id: 'address-missing',
    model: (m) => {
      inside(m, 'product-service').addresses = [];
    },
    deliverables: ids('1.2-veth', '1.2-diagram', '1.2-ping-nginx', '1.2-ping-gateway', '1.3-internet', PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'product-service without a default route',
    id: 'default-route-missing',
    model: (m) => {
      ns(m, 'product-service').routes = ns(m, 'product-service').routes.filter((r) => r.dst !== 'default');
    },
    deliverables: ['1.3-internet'],
  },
  {
    name: 'nginx-lb without a default route (no way back to the external client)',
    id: 'default-route-missing',
    model: (m) => {
      ns(m, 'nginx-lb').routes = ns(m, 'nginx-lb').routes.filter((r) => r.dst !== 'default');
    },
    deliverables: ids(EXT),
  },
  {
    name: 'lo down in api-gateway',
    id: 'lo-down',
    model: (m) => {
      ns(m, 'api-gateway').links.find((l) => l.kind === 'loopback')!.up = false;
    },
    deliverables: ids('2.2-health-inside', '2.2-products-namespace', '2.2-orders-namespace', '2.3-product-reaches-redis', '2.4-order-written', '2.4-order-read-back'),
  },
  {
    name: 'ip_forward 0',
    id: 'ip-forward-off',
    model: (m) => {
      m.sysctl['net.ipv4.ip_forward'] = '0';
    },
    // Task 1.3's, not the diagram's: 1.2-diagram judges task 1.2's network only.
    deliverables: ids('1.3-internet', EXT),
  },
  {
    name: 'no MASQUERADE',
    id: 'masquerade-missing',
    model: (m) => rules(m, (s) => s.replace(/^-A POSTROUTING.*\n/m, '')),
    // A rule's fault is 1.4's (and the paths it cuts), never the diagram's.
    deliverables: ['1.3-internet', '1.4-nat-rules'],
  },
  {
    name: "no MASQUERADE of the lab's, on a Docker host (its own -s 172.17.0.0/16 ! -o docker0 is not a wrong subnet)",
    id: 'masquerade-missing',
    model: (m) => rules(m, (s) => s.replace(/^-A POSTROUTING.*$/m, '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE')),
    deliverables: ['1.3-internet', '1.4-nat-rules'],
  },
  {
    name: 'MASQUERADE for 10.1.0.0/16',
    id: 'masquerade-wrong-subnet',
    model: (m) => rules(m, (s) => s.replace('-s 10.0.0.0/16', '-s 10.1.0.0/16')),
    deliverables: ['1.3-internet', '1.4-nat-rules'],
  },
  {
    name: 'MASQUERADE for 10.0.0.0/24 (the six, not the /16)',
    id: 'masquerade-wrong-subnet',
    model: (m) => rules(m, (s) => s.replace('-s 10.0.0.0/16', '-s 10.0.0.0/24')),
    deliverables: ['1.4-nat-rules'],
  },
  {
    name: "MASQUERADE -o eth1 while the host's uplink (its default route) is eth0",
    id: 'masquerade-wrong-interface',
    model: (m) => rules(m, (s) => s.replace('! -o br-app', '-o eth1')),
    deliverables: ['1.3-internet', '1.4-nat-rules'],
  },
  {
    name: "MASQUERADE -o eth0 on a host without a default route: the way out is the grader's br-uplink",
    id: 'masquerade-wrong-interface',
    model: (m) => {
      rules(m, (s) => s.replace('! -o br-app', '-o eth0'));
      m.host.routes = m.host.routes.filter((r) => r.dst !== 'default');
    },
    vantage: probeVantage,
    deliverables: ['1.3-internet', '1.4-nat-rules'],
  },
  {
    name: 'no DNAT',
    id: 'dnat-missing',
    model: (m) => rules(m, (s) => s.replace(/^-A PREROUTING.*\n/m, '')),
    deliverables: ids('1.4-nat-rules', EXT),
  },
  {
    name: 'DNAT without a port (8080 kept)',
    id: 'dnat-wrong-port',
    model: (m) => rules(m, (s) => s.replace('10.0.0.10:80', '10.0.0.10')),
    deliverables: ids('1.4-nat-rules', EXT),
  },
  {
    name: 'DNAT to the gateway',
    id: 'dnat-wrong-address',
    model: (m) => rules(m, (s) => s.replace('10.0.0.10:80', '10.0.0.20:80')),
    deliverables: ids('1.4-nat-rules', EXT),
  },
  {
    name: 'Docker host: FORWARD DROP, br_netfilter on, nothing accepts br-app to br-app',
    id: 'forward-drops-bridged',
    model: (m) => {
      m.sysctl['net.bridge.bridge-nf-call-iptables'] = '1';
      rules(m, (s) =>
        s.replace(':FORWARD ACCEPT', ':FORWARD DROP').replace(/^(-A FORWARD.*\n)/m, '$1-A FORWARD -i br-app ! -o br-app -j ACCEPT\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n'),
      );
    },
    // The forward rule's probes include the bridged hops here, so 1.4's verdict goes with them.
    deliverables: ids('1.2-ping-nginx', '1.2-ping-gateway', '1.4-nat-rules', '2.1-health-namespace', '2.2-health-nginx', PRODUCTS, ORDERS, '2.3-product-reaches-redis', '2.4-order-reaches-postgres'),
  },
  {
    name: 'nothing on 80 in nginx-lb',
    id: 'nginx-not-listening',
    model: (m) => {
      ns(m, 'nginx-lb').listeners = [];
    },
    deliverables: ids(EXT, '2.1-health-namespace'),
  },
  {
    name: 'nothing on 3000 in api-gateway',
    id: 'gateway-not-listening',
    model: (m) => {
      ns(m, 'api-gateway').listeners = [];
    },
    deliverables: ids('2.2-listening', '2.2-health-inside', '2.2-health-nginx', PRODUCTS, ORDERS, '2.3-product-reaches-redis'),
  },
  {
    name: 'gateway on 127.0.0.1:3000',
    id: 'gateway-loopback-only',
    model: (m) => {
      ns(m, 'api-gateway').listeners[0]!.address = '127.0.0.1';
    },
    deliverables: ['2.2-health-nginx', '2.2-products-host', '2.2-orders-host'],
  },
  {
    name: 'gateway on 10.0.0.20:3000 only (localhost refused)',
    id: 'gateway-not-on-localhost',
    model: (m) => {
      ns(m, 'api-gateway').listeners[0]!.address = '10.0.0.20';
    },
    deliverables: ids('2.2-health-inside', '2.2-products-namespace', '2.2-orders-namespace', '2.3-product-reaches-redis', '2.4-order-written', '2.4-order-read-back'),
  },
  {
    name: 'nothing on 5000 in product-service',
    id: 'product-not-listening',
    model: (m) => {
      ns(m, 'product-service').listeners = [];
    },
    deliverables: ids(PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'nothing on 5000 in order-service',
    id: 'order-not-listening',
    model: (m) => {
      ns(m, 'order-service').listeners = [];
    },
    deliverables: ids(ORDERS, '2.4-order-listening'),
  },
  {
    name: 'no Redis anywhere',
    id: 'redis-not-listening',
    model: (m) => {
      ns(m, 'redis-cache').listeners = [];
      ns(m, 'redis-cache').processes = [];
    },
    // The seed's Flask product service fails a GET when Redis does not answer.
    deliverables: ids(PRODUCTS, '2.3-redis-listening', '2.3-product-reaches-redis'),
  },
  {
    name: "Redis on 127.0.0.1 (redis.conf's default bind)",
    id: 'redis-loopback-only',
    model: (m) => {
      ns(m, 'redis-cache').listeners[0]!.address = '127.0.0.1';
    },
    deliverables: ids(PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'no PostgreSQL anywhere',
    id: 'postgres-missing',
    model: (m) => {
      ns(m, 'postgres-db').listeners = [];
      ns(m, 'postgres-db').processes = [];
    },
    deliverables: ids(ORDERS, '2.4-postgres-running', '2.4-postgres-listening', '2.4-order-reaches-postgres'),
  },
  {
    name: 'postgres runs in postgres-db without a TCP listener',
    id: 'postgres-not-listening',
    model: (m) => {
      ns(m, 'postgres-db').listeners = [];
    },
    deliverables: ids(ORDERS, '2.4-postgres-listening', '2.4-order-reaches-postgres'),
  },
  {
    name: "PostgreSQL on 127.0.0.1 (listen_addresses' default)",
    id: 'postgres-loopback-only',
    model: (m) => {
      ns(m, 'postgres-db').listeners[0]!.address = '127.0.0.1';
    },
    deliverables: ids(ORDERS, '2.4-postgres-listening', '2.4-order-reaches-postgres'),
  },
  {
    name: 'nginx proxies to 10.0.0.20:8080',
    id: 'nginx-upstream-wrong',
    facts: (f) => {
      f.nginx!.upstream = ['10.0.0.20:8080'];
    },
    deliverables: ['2.2-products-host', '2.2-orders-host'],
  },
  {
    name: 'the order service connects to 10.0.0.1 while PostgreSQL is in postgres-db',
    id: 'order-db-address-wrong',
    facts: (f) => {
      f.orderDb = { host: '10.0.0.1', port: 5432, source: '/tmp/order-service.py' };
    },
    deliverables: ids(ORDERS),
  },
  {
    name: 'the product service connects to localhost for Redis',
    id: 'product-redis-address-wrong',
    facts: (f) => {
      f.productRedis = { host: 'localhost', port: 6379, source: '/tmp/product-service.py' };
    },
    deliverables: ids(PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'PostgreSQL does not answer the host',
    id: 'postgres-unreachable',
    facts: (f) => {
      f.postgres = { ...f.postgres!, reachable: false, error: 'connect ECONNREFUSED 10.0.0.60:5432' };
      delete f.postgres.authOk;
    },
    deliverables: ids(ORDERS, '2.4-postgres-listening'),
  },
  {
    name: 'wrong password',
    id: 'postgres-auth-failed',
    facts: (f) => {
      f.postgres = { ...f.postgres!, authOk: false, code: '28P01', error: 'password authentication failed for user "postgres"' };
    },
    deliverables: ids(ORDERS),
  },
  {
    name: 'no database orders',
    id: 'orders-database-missing',
    facts: (f) => {
      f.postgres = { ...f.postgres!, databaseExists: false, code: '3D000' };
    },
    deliverables: ids(ORDERS),
  },
  {
    name: 'no orders table',
    id: 'orders-table-missing',
    facts: (f) => {
      f.postgres!.ordersTable = false;
    },
    deliverables: ids(ORDERS),
  },
  {
    name: 'Redis in protected mode',
    id: 'redis-protected-mode',
    facts: (f) => {
      f.redis = { host: '10.0.0.50', port: 6379, reachable: false, error: 'DENIED Redis is running in protected mode because protected mode is enabled' };
    },
    deliverables: ids(PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'Redis answers nothing',
    id: 'redis-unreachable',
    facts: (f) => {
      f.redis = { host: '10.0.0.50', port: 6379, reachable: false, error: 'connect ETIMEDOUT' };
    },
    deliverables: ids(PRODUCTS, '2.3-product-reaches-redis'),
  },
  {
    name: 'no all_products after a GET',
    id: 'product-cache-unused',
    facts: (f) => {
      f.redis = { host: '10.0.0.50', port: 6379, reachable: true, allProducts: false };
    },
    deliverables: ['2.3-product-reaches-redis'],
  },
  {
    name: 'all_products without a TTL',
    id: 'product-cache-no-ttl',
    facts: (f) => {
      f.redis!.allProductsTtl = -1;
    },
    deliverables: ['2.3-product-reaches-redis'],
  },
];

describe('diagnose', () => {
  it("finds nothing wrong with the seed's lab, and it deviates in nothing", () => {
    expect(diagnosed(seedLab(), seedFacts())).toEqual([]);
    expect(diagnosed(seedLab())).toEqual([]);
    expect(diagnosed(seedLab(), seedFacts(), probeVantage)).toEqual([]);
    expect(deviated(seedLab(), seedFacts())).toEqual([]);
  });

  it.each(cases)('$name: $id', (c) => {
    const m = seedLab();
    const f = seedFacts();
    c.model?.(m);
    c.facts?.(f);
    const found = only(m, f, c.vantage);
    expect(found.id).toBe(c.id);
    expect(found.deliverables).toEqual(c.deliverables);
    expect(found.cause).not.toBe('');
    expect(found.fix).not.toBe('');
  });

  it('names the thing and the command: ip_forward', () => {
    const m = seedLab();
    m.sysctl['net.ipv4.ip_forward'] = '0';
    expect(only(m)).toMatchObject({ cause: expect.stringContaining('net.ipv4.ip_forward is 0'), fix: 'sudo sysctl -w net.ipv4.ip_forward=1' });
  });

  it('a name read from the host is one quoted word in the fix a person pastes as root', () => {
    const m = seedLab();
    const peer = hostEnd(m, 'product-service');
    peer.up = false;
    peer.name = 'v;reboot';
    inside(m, 'product-service').peer!.name = peer.name;
    expect(only(m).fix).toBe("sudo ip link set 'v;reboot' up");
  });

  it("a missing namespace brings none of its veth, route, listener or nginx's config with it", () => {
    const m = seedLab();
    dropNamespace(m, 'nginx-lb');
    const f = seedFacts();
    f.nginx!.upstream = ['10.0.0.99:1'];
    const found = diagnosed(m, f);
    expect(found.map((x) => x.id)).toEqual(['namespace-missing']);
    expect(found[0]!.deliverables).toEqual(
      ids('1.1-netns-list', '1.2-bridge', '1.2-veth', '1.2-diagram', '1.2-ping-nginx', EXT, '2.1-health-namespace', '2.2-health-nginx', '2.2-products-host', '2.2-orders-host'),
    );
    expect(found[0]!.fix).toMatch(/^sudo ip netns add nginx-lb && sudo ip link add veth-nginx type veth peer name veth-nginx-br/);
  });

  it('a missing redis-cache is one finding; the cache facts it explains are not blamed', () => {
    const m = seedLab();
    dropNamespace(m, 'redis-cache');
    const f = seedFacts();
    f.redis = { host: '10.0.0.50', port: 6379, reachable: false, error: 'connect EHOSTUNREACH' };
    expect(diagnosed(m, f).map((x) => x.id)).toEqual(['namespace-missing']);
  });

  it("a live fact explained by the host's state is left out: postgres-db's veth down, PostgreSQL unreachable", () => {
    const m = seedLab();
    inside(m, 'postgres-db').up = false;
    const f = seedFacts();
    f.postgres = { ...f.postgres!, reachable: false, error: 'timeout' };
    expect(diagnosed(m, f).map((x) => x.id)).toEqual(['veth-down']);
  });

  it('no cache write is not blamed on the product service while the gateway is down', () => {
    const m = seedLab();
    ns(m, 'api-gateway').listeners = [];
    const f = seedFacts();
    f.redis!.allProducts = false;
    expect(diagnosed(m, f).map((x) => x.id)).toEqual(['gateway-not-listening']);
  });

  it('orders root causes first: bridge, namespaces, links, sysctl, rules, services', () => {
    const m = seedLab();
    m.host.links.find((l) => l.name === bridge.name)!.addresses = [];
    dropNamespace(m, 'order-service');
    inside(m, 'api-gateway').up = false;
    m.sysctl['net.ipv4.ip_forward'] = '0';
    rules(m, (s) => s.replace(/^-A POSTROUTING.*\n/m, ''));
    ns(m, 'product-service').listeners = [];
    expect(diagnosed(m, seedFacts()).map((x) => x.id)).toEqual(['bridge-address-missing', 'namespace-missing', 'veth-down', 'ip-forward-off', 'masquerade-missing', 'product-not-listening']);
  });

  it("FORWARD DROP with only the seed's accept: the replies and the egress are dropped", () => {
    const m = seedLab();
    rules(m, (s) => s.replace(':FORWARD ACCEPT', ':FORWARD DROP'));
    const found = diagnosed(m, seedFacts());
    expect(found.map((x) => x.id)).toEqual(['forward-drops-dnat', 'forward-drops-egress']);
    // The request itself is accepted (the seed's rule); its replies are not.
    expect(found[0]!.deliverables).toEqual(ids('1.4-nat-rules', EXT));
    // Every FORWARD probe is part of the seed's forward rule: its egress failing fails 1.4 too.
    expect(found[1]!.deliverables).toEqual(ids('1.3-internet', '1.4-nat-rules'));
    rules(m, (s) => s.replace(/^-A FORWARD -d 10.0.0.10.*\n/m, ''));
    expect(diagnosed(m, seedFacts())[0]!.deliverables).toEqual(ids('1.4-nat-rules', EXT));
    // Docker rewrites FORWARD; DOCKER-USER is where a learner's accepts survive.
    rules(m, (s) => s.replace(':FORWARD DROP [0:0]\n', ':FORWARD DROP [0:0]\n:DOCKER-USER - [0:0]\n'));
    expect(diagnosed(m, seedFacts())[0]!.fix).toContain('sudo iptables -I DOCKER-USER');
  });

  it("ecomnet's product service answers without Redis: a Redis fault leaves the product routes alone", () => {
    const m = seedLab();
    ns(m, 'product-service').processes = [{ pid: 7, comm: 'node', argv: ['node', 'src/services/main.ts', '/run/ecomnet/product.json'] }];
    ns(m, 'redis-cache').listeners[0]!.address = '127.0.0.1';
    // A data server that does not serve is a note on the diagram, not its fault.
    expect(only(m).deliverables).toEqual(['2.3-product-reaches-redis']);
  });

  it("the seed's Docker PostgreSQL (published on 10.0.0.1:5432) is no fault, and the order service must use that address", () => {
    const m = seedLab();
    ns(m, 'postgres-db').listeners = [];
    ns(m, 'postgres-db').processes = [];
    m.host.listeners.push({ proto: 'tcp', address: '0.0.0.0', port: 5432, process: 'docker-proxy' });
    m.containers = [{ id: 'c1', name: 'postgres', image: 'postgres:15', running: true, ports: [{ containerPort: 5432, hostIp: '0.0.0.0', hostPort: 5432 }] }];
    const f = seedFacts();
    f.postgres = { ...f.postgres!, host: bridge.ip };
    f.orderDb = { host: bridge.ip, port: 5432, source: '/tmp/order-service.py' };
    expect(diagnosed(m, f)).toEqual([]);
    f.orderDb = { host: '10.0.0.60', port: 5432, source: '/tmp/order-service.py' };
    expect(only(m, f)).toMatchObject({ id: 'order-db-address-wrong', deliverables: ids(ORDERS) });
    // Published on 127.0.0.1 only: the namespaces cannot reach it.
    m.host.listeners.at(-1)!.address = '127.0.0.1';
    m.containers[0]!.ports[0]!.hostIp = '127.0.0.1';
    expect(only(m, f)).toMatchObject({ id: 'postgres-loopback-only', deliverables: ids(ORDERS, '2.4-postgres-listening', '2.4-order-reaches-postgres') });
  });

  it('without its own /health, nginx sends /health to the gateway: a deviation, and the gateway then matters to it', () => {
    const m = seedLab();
    const f = seedFacts();
    f.nginx!.health = false;
    expect(diagnosed(m, f)).toEqual([]);
    expect(deviated(m, f).map((d) => d.id)).toEqual(['nginx-no-health']);
    ns(m, 'api-gateway').listeners = [];
    expect(only(m, f).deliverables).toEqual(ids(EXT, '2.1-health-namespace', '2.2-listening', '2.2-health-inside', '2.2-health-nginx', PRODUCTS, ORDERS, '2.3-product-reaches-redis'));
  });
});

describe('deviations', () => {
  it('a bridge named br0 with 10.0.0.1/24, and namespaces at /24, do the job', () => {
    const m = seedLab();
    const br = m.host.links.find((l) => l.name === bridge.name)!;
    br.name = 'br0';
    br.addresses = [{ ip: bridge.ip, prefix: 24 }];
    for (const l of m.host.links) if (l.master === bridge.name) l.master = 'br0';
    m.host.routes = [
      { dst: 'default', via: '192.168.56.1', dev: 'eth0' },
      { dst: '10.0.0.0/24', dev: 'br0' },
    ];
    inside(m, 'api-gateway').addresses = [{ ip: '10.0.0.20', prefix: 24 }];
    rules(m, (s) => s.replace('! -o br-app', '! -o br0'));
    expect(diagnosed(m, seedFacts())).toEqual([]);
    expect(deviated(m).map((d) => d.id)).toEqual(['bridge-renamed', 'bridge-prefix', 'namespace-prefix']);
  });

  it('MASQUERADE -o eth0 serves the real uplink: a deviation, not a fault, when that is where the outside is', () => {
    const m = seedLab();
    rules(m, (s) => s.replace('! -o br-app', '-o eth0'));
    expect(diagnosed(m, seedFacts())).toEqual([]);
    // From verify's probe too: egress is judged out of the host's real uplink, not the probe's bridge.
    expect(diagnosed(m, seedFacts(), probeVantage)).toEqual([]);
    expect(deviated(m)).toEqual([expect.objectContaining({ id: 'masquerade-names-uplink', deliverables: ['1.3-internet', '1.4-nat-rules'] })]);
  });

  it('no FORWARD accept under policy ACCEPT: the policy carries the DNATed traffic, a deviation (it was the fault forward-accept-missing)', () => {
    const m = seedLab();
    rules(m, (s) => s.replace(/^-A FORWARD.*\n/m, ''));
    expect(diagnosed(m, seedFacts())).toEqual([]);
    expect(deviated(m)).toEqual([expect.objectContaining({ id: 'forward-by-policy', deliverables: ['1.4-nat-rules'] })]);
    // Under DROP nothing carries it: a fault, and no deviation.
    rules(m, (s) => s.replace(':FORWARD ACCEPT', ':FORWARD DROP'));
    expect(diagnosed(m, seedFacts()).map((f) => f.id)).toContain('forward-drops-dnat');
    expect(deviated(m).map((d) => d.id)).not.toContain('forward-by-policy');
  });

  it('a MASQUERADE without `! -o br-app` also rewrites bridge traffic', () => {
    const m = seedLab();
    rules(m, (s) => s.replace(' ! -o br-app', ''));
    expect(deviated(m).map((d) => d.id)).toEqual(['masquerade-includes-bridge']);
  });

  it("nginx's veth pair under other names", () => {
    const m = seedLab();
    inside(m, 'nginx-lb').name = 'eth0';
    expect(deviated(m).map((d) => d.id)).toEqual(['veth-renamed']);
  });
});

describe('service facts', () => {
  const SEED_NGINX = `events {
    worker_connections 1024;
}

http {
    upstream api_gateway {
        server 10.0.0.20:3000;
    }

    server {
        listen 80;

        location / {
            proxy_pass http://api_gateway;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
        }

        location /health {
            return 200 "OK\\n";
            add_header Content-Type text/plain;
        }
    }
}
`;

  it("reads the seed's nginx.conf: /api/ to the gateway, /health its own", () => {
    expect(nginxRoutes(parseNginx(SEED_NGINX))).toEqual({ upstream: ['10.0.0.20:3000'], health: true, realIp: true });
    const direct = SEED_NGINX.replace('http://api_gateway', 'http://10.0.0.20:8080/').replace(/location \/health \{[^}]*\}/, '');
    expect(nginxRoutes(parseNginx(direct))).toEqual({ upstream: ['10.0.0.20:8080'], health: false, realIp: true });
  });

  it("finds the master's -c file in its rewritten argv", () => {
    expect(nginxConfigPath(['nginx: master process nginx -c /tmp/nginx/nginx.conf'])).toBe('/tmp/nginx/nginx.conf');
    expect(nginxConfigPath(['nginx: master process /usr/sbin/nginx -g daemon off;'])).toBe('/etc/nginx/nginx.conf');
    expect(nginxConfigPath(['nginx', '-p', '/srv/lb', '-c', 'conf/nginx.conf'])).toBe('/srv/lb/conf/nginx.conf');
  });

  it("finds where the seed's scripts and ecomnet's config connect, not where they listen", () => {
    const order =
      "def get_db():\n    return psycopg2.connect(\n        host='10.0.0.60',\n        database='orders',\n        user='postgres',\n        password='postgres'\n    )\n\napp.run(host='0.0.0.0', port=5000)";
    expect(targetIn(order, 'postgres')).toEqual({ host: '10.0.0.60', port: 5432 });
    expect(targetIn("cache = redis.Redis(host='10.0.0.50', port=6379, decode_responses=True)", 'redis')).toEqual({ host: '10.0.0.50', port: 6379 });
    expect(targetIn('{"service":"order","listen":{"host":"10.0.0.40","port":5000},"pgUrl":"postgres://orders:s3cret@10.0.0.1:5432/orders"}', 'postgres')).toEqual({ host: '10.0.0.1', port: 5432 });
    expect(targetIn("app.run(host='0.0.0.0', port=5000)", 'postgres')).toBeUndefined();
  });

  it('connects only to loopback, the bridge address and namespaces the host routes onto the bridge', () => {
    const m = seedLab();
    expect(notProbed(m, '127.0.0.1')).toBeUndefined();
    expect(notProbed(m, bridge.ip)).toBeUndefined();
    expect(notProbed(m, '10.0.0.60')).toBeUndefined();
    expect(notProbed(m, '192.168.56.1')).toMatch(/outside/);
    m.host.routes = m.host.routes.filter((r) => r.dev !== bridge.name);
    expect(notProbed(m, '10.0.0.60')).toMatch(/via 192\.168\.56\.1/);
  });

  it('gathers nothing it may not reach, and does not throw', async () => {
    const empty: HostModel = { at: '', host: { links: [], routes: [], listeners: [] }, namespaces: [], sysctl: {}, iptables: { backend: 'nft', save: '' } };
    const facts = await gatherServiceFacts(empty, { pg: pgLogin(empty, 'postgres://postgres:postgres@10.0.0.60:5432/orders'), redis: redisLogin(empty, 'redis://10.0.0.50:6379') });
    expect(facts.nginx).toBeUndefined();
    expect(facts.postgres).toMatchObject({ host: '10.0.0.60', error: expect.stringMatching(/^not probed/) });
    expect(facts.postgres?.reachable).toBeUndefined();
    expect(facts.redis).toMatchObject({ host: '10.0.0.50', error: expect.stringMatching(/^not probed/) });
  });
});

describe('advice: what the seed does not ask for', () => {
  it("the seed's PREROUTING-only DNAT leaves the host's own curl localhost:8080 unforwarded, and says how to add it", () => {
    const [a] = judgeRules(seedLab()).advice;
    expect(a).toMatchObject({ id: 'host-clients-not-forwarded', deliverables: expect.arrayContaining(['2.1-health-host']) });
    expect(a!.text).toContain('iptables -t nat -A OUTPUT -p tcp --dport 8080');
    // route_localnet without its 127/8 guard opens the host's loopback services to the namespaces.
    expect(a!.text).toContain('iptables -I INPUT -i br-app -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  });

  it('an OUTPUT DNAT for local destinations gives none', () => {
    const m = seedLab();
    rules(m, (s) => s.replace(':POSTROUTING ACCEPT [0:0]\n', ':POSTROUTING ACCEPT [0:0]\n-A OUTPUT -p tcp -m tcp --dport 8080 -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.0.0.10:80\n'));
    expect(judgeRules(m).advice).toEqual([]);
  });
});
