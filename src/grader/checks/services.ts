/**
 * Phase 2's deliverables (tasks 2.1-2.4) as checks: the seed's requests and their answers (routes,
 * payloads, status codes, the cache keys, the orders row), asked from where the seed asks them.
 * Only the seed's contract: a service's own extras (headers, more routes) are never required.
 */
import { escapeRegExp } from '../../util/text.ts';
import { cache, health, nginx, order as seedOrder, orderCreated, orderRow, productNotFound, products, rules } from '../contract.ts';
import { contractNs, postgresAt, redisAt } from '../find.ts';
import { type Check, Failed, httpReply, reply, type Trial } from './trial.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');
const product = contractNs('product-service');
const order = contractNs('order-service');
const redis = contractNs('redis-cache');
const pg = contractNs('postgres-db');
const port = rules.dnat.dport;
const one = products[1]!;

const curl = '-sS --connect-timeout 2 -m 5';
const post = `${curl} -w '\\n%{http_code}' -X POST -H 'Content-Type: application/json' -d '${JSON.stringify(seedOrder)}'`;

/** nginx's /health: 200 from nginx itself (its Server header). The seed's location answers OK; without it /health goes on to the gateway, which is a deviation. */
function fromNginx(t: Trial, r: Awaited<ReturnType<Trial['sh']>>, what: string): void {
  t.succeeded(r, what);
  const answer = httpReply(r);
  t.equal(answer.status, 200, `${what}: the status`);
  t.match(answer.headers.get('server') ?? '', /^nginx/, `${what}: the answer comes from nginx (its Server header)`);
}

/** A JSON reply with its status, from `curl -w '\n%{http_code}'`. */
function answer(t: Trial, r: Awaited<ReturnType<Trial['sh']>>, what: string): { body: unknown; code: number } {
  t.succeeded(r, what);
  const { body, code } = reply(r);
  try {
    return { body: JSON.parse(body) as unknown, code };
  } catch {
    throw new Failed(`${what}: HTTP ${code}, and the answer is not JSON: ${JSON.stringify(body.slice(0, 300))}`);
  }
}

/** The seed's POST answered 201 with the new order's id: returns the id. */
function created(t: Trial, r: Awaited<ReturnType<Trial['sh']>>, what: string): number {
  const { body, code } = answer(t, r, what);
  t.equal(code, 201, `${what}: the status`);
  const id = (body as { order_id?: unknown }).order_id;
  t.ok(Number.isInteger(id), `${what}: no order_id in ${JSON.stringify(body)}`);
  t.equal({ ...(body as object), order_id: 0 }, { order_id: 0, ...orderCreated }, `${what}: the answer`);
  return id as number;
}

const listening = (t: Trial, ns: string, p: number) => t.inNs(ns, `ss -lntp | grep ${p}`);
const listens = (p: number) => new RegExp(`LISTEN .*:${p} .*users:\\(\\(".*",pid=\\d+,`);

/** How a person shows PostgreSQL running where this build put it (the seed: `docker ps`). */
const runningEvidence = {
  namespace: { what: `its processes in ${pg.name}`, command: `ps -o pid,user,args -p "$(ip netns pids ${pg.name} | paste -sd,)"`, shows: /postgres/ },
  container: {
    what: 'a container publishing it (docker ps)',
    command: `docker ps --filter publish=${pg.port} --format '{{.Names}} {{.Image}} {{.Status}} {{.Ports}}'`,
    shows: new RegExp(`Up .*:${pg.port}->`),
  },
  host: { what: `a server on the host listening on :${pg.port}`, command: `ss -lntp | grep ':${pg.port} '`, shows: /postgres/ },
};

/** Redis's own counters of key lookups that found a value. */
async function hits(t: Trial): Promise<number> {
  const r = await t.redis('INFO', 'stats');
  t.succeeded(r, 'redis-cli INFO stats');
  const n = Number(/^keyspace_hits:(\d+)\r?$/m.exec(r.stdout)?.[1]);
  t.ok(Number.isInteger(n), `Redis's INFO stats has no keyspace_hits: ${r.stdout.slice(0, 200)}`);
  return n;
}

export const serviceChecks: Check[] = [
  {
    id: '2.1-health-host',
    deliverable: '2.1-health-host',
    title: `/health answers from nginx to a client outside, through the host's address :${port}`,
    tools: ['curl'],
    outside: true,
    async run(t) {
      fromNginx(t, await t.asClient(`curl ${curl} -i http://${t.lab.vantage!.hostAddress}:${port}/health`), 'the external client asks /health');
    },
  },
  {
    id: '2.1-health-namespace',
    deliverable: '2.1-health-namespace',
    title: `/health answers from another namespace (${gw.name} -> ${lb.ip})`,
    tools: ['ip', 'curl'],
    async run(t) {
      fromNginx(t, await t.inNs(gw.name, `curl ${curl} -i http://${lb.ip}/health`), `${gw.name} asks ${lb.ip}/health`);
    },
  },
  {
    id: '2.2-listening',
    deliverable: '2.2-listening',
    title: `the gateway listens on :${gw.port} in its namespace (ss -lntp)`,
    tools: ['ip', 'ss'],
    async run(t) {
      t.match((await listening(t, gw.name, gw.port)).stdout, listens(gw.port), `a listener on :${gw.port} in ${gw.name}`);
    },
  },
  {
    id: '2.2-health-inside',
    deliverable: '2.2-health-inside',
    title: '/health inside its namespace',
    tools: ['ip', 'curl'],
    async run(t) {
      const r = await t.inNs(gw.name, `curl ${curl} http://127.0.0.1:${gw.port}/health`);
      t.equal(t.json(r, 'the gateway /health'), health.gateway, 'the gateway /health');
    },
  },
  {
    id: '2.2-health-nginx',
    deliverable: '2.2-health-nginx',
    title: `/health from ${lb.name}`,
    tools: ['ip', 'curl'],
    async run(t) {
      const r = await t.inNs(lb.name, `curl ${curl} http://${gw.ip}:${gw.port}/health`);
      t.equal(t.json(r, `${lb.name} asks the gateway /health`), health.gateway, 'the gateway /health');
    },
  },
  {
    id: '2.2-products-namespace',
    deliverable: '2.2-products-namespace',
    title: "routes products from the gateway namespace (the seed's command), one product, and a missing one",
    tools: ['ip', 'curl'],
    async run(t) {
      const [all, single, none] = await Promise.all([
        t.inNs(gw.name, `curl ${curl} -w '\\n%{http_code}' http://localhost:${gw.port}/api/products`),
        t.inNs(gw.name, `curl ${curl} -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/${one.id}`),
        t.inNs(gw.name, `curl ${curl} -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/99`),
      ]);
      t.equal(answer(t, all, 'GET /api/products'), { body: products, code: 200 }, 'GET /api/products');
      t.equal(answer(t, single, `GET /api/products/${one.id}`), { body: one, code: 200 }, `GET /api/products/${one.id}`);
      t.equal(answer(t, none, 'GET /api/products/99'), { body: productNotFound, code: 404 }, 'GET /api/products/99');
    },
  },
  {
    id: '2.2-products-host',
    deliverable: '2.2-products-host',
    title: `routes products through the host port ${port}, end to end, for a client outside`,
    tools: ['curl'],
    outside: true,
    async run(t) {
      const r = await t.asClient(`curl ${curl} -w '\\n%{http_code}' http://${t.lab.vantage!.hostAddress}:${port}/api/products`);
      t.equal(answer(t, r, 'GET /api/products through the host port'), { body: products, code: 200 }, 'GET /api/products through the host port');
    },
  },
  {
    id: '2.2-products-host/x-real-ip',
    deliverable: '2.2-products-host',
    title: `nginx passes the gateway ${nginx.realIpHeader} with the external client's address, replacing one the client forged (counted on the wire in ${gw.name})`,
    tools: ['ip', 'curl', 'iptables'],
    outside: true,
    async run(t) {
      const v = t.lab.vantage!;
      const chain = 'ECOMNET-VERIFY-XRI';
      const line = (value: string) => `${nginx.realIpHeader}: ${value}|0d0a|`;
      const forged = 'forged-by-client';
      // Counting rules in a chain of the grader's own, in the gateway's namespace: the kernel counts
      // the packets to the gateway whose payload holds each complete header line. Removed after.
      const counting = (name: string, value: string) => `-A ${chain} -p tcp --dport ${gw.port} -m string --algo bm --hex-string '${line(value)}' -m comment --comment ${name}`;
      const ipt = (...lines: string[]) => t.inNs(gw.name, `sh -c '${lines.map((l) => `${t.lab.iptables.list} ${l.replaceAll("'", `'"'"'`)}`).join(' && ')}'`);
      const added = await ipt(`-N ${chain}`, counting('real-ip', v.client), counting('forged-ip', forged), `-I INPUT -j ${chain}`);
      try {
        t.succeeded(added, 'counting rules in the gateway namespace');
        const r = await t.asClient(`curl ${curl} -o /dev/null -w '%{http_code}' -H '${nginx.realIpHeader}: ${forged}' http://${v.hostAddress}:${port}/api/products`);
        t.equal(r.stdout, '200', 'the status of GET /api/products through the host port');
        const saved = await ipt(`-L ${chain} -v -x -n`);
        const packets = (name: string) => Number(new RegExp(`^\\s*(\\d+)\\s.*/\\* ${name} \\*/`, 'm').exec(saved.stdout)?.[1] ?? 0);
        t.ok(
          packets('real-ip') > 0,
          `the gateway got no \`${nginx.realIpHeader}: ${v.client}\`: nginx does not pass the client's address (the seed's \`proxy_set_header ${nginx.realIpHeader} $remote_addr;\`)`,
        );
        t.equal(packets('forged-ip'), 0, `packets with the client's forged ${nginx.realIpHeader}`);
      } finally {
        await t.inNs(gw.name, `sh -c '${t.lab.iptables.list} -D INPUT -j ${chain}; ${t.lab.iptables.list} -F ${chain}; ${t.lab.iptables.list} -X ${chain}'`);
      }
    },
  },
  {
    id: '2.2-orders-namespace',
    deliverable: '2.2-orders-namespace',
    title: "routes orders from the gateway namespace (the seed's POST)",
    tools: ['ip', 'curl'],
    async run(t) {
      created(t, await t.inNs(gw.name, `curl ${post} http://localhost:${gw.port}/api/orders`), 'POST /api/orders in the gateway namespace');
    },
  },
  {
    id: '2.2-orders-host',
    deliverable: '2.2-orders-host',
    title: `routes orders through the host port ${port}, for a client outside`,
    tools: ['curl'],
    outside: true,
    async run(t) {
      created(t, await t.asClient(`curl ${post} http://${t.lab.vantage!.hostAddress}:${port}/api/orders`), 'POST /api/orders through the host port');
    },
  },
  {
    id: '2.3-redis-listening',
    deliverable: '2.3-redis-listening',
    title: `Redis listens on :${redis.port} (in ${redis.name}, or published on the bridge address) and answers PING`,
    tools: ['ip', 'ss', 'redis-cli'],
    async run(t) {
      const at = redisAt(t.lab.model);
      const inNamespace = at?.where === 'namespace';
      const r = inNamespace ? await listening(t, redis.name, redis.port) : await t.sh(`ss -lnt | grep ${redis.port}`);
      t.match(r.stdout, new RegExp(`LISTEN .*(${escapeRegExp(t.lab.redis.host)}|0\\.0\\.0\\.0|\\*|\\[::\\]):${redis.port}\\s`), `Redis listening at ${t.lab.redis.host}:${redis.port}`);
      const pong = await t.redis('PING');
      t.equal(pong.stdout.trim(), 'PONG', 'redis-cli PING');
    },
  },
  {
    id: '2.3-product-reaches-redis',
    deliverable: '2.3-product-reaches-redis',
    title: `${product.name} reaches Redis (nc -zv)`,
    tools: ['ip', 'nc'],
    async run(t) {
      const r = await t.inNs(product.name, `nc -zv -w 3 ${t.lab.redis.host} ${redis.port}`);
      t.succeeded(r, `${product.name} opens ${t.lab.redis.host}:${redis.port}`);
      t.match(r.stderr, /succeeded|open/, 'nc says the port is open');
    },
  },
  {
    id: '2.3-product-reaches-redis/cache',
    deliverable: '2.3-product-reaches-redis',
    title: `the product service caches in Redis: after a GET the seed's keys ${cache.allKey} and ${cache.keyOf(one.id)} hold what was served with TTL in (0, ${cache.ttlSeconds}], and Redis counts a hit on the next GET`,
    tools: ['ip', 'curl', 'redis-cli'],
    lock: 'cache-keys',
    async run(t) {
      const del = await t.redis('DEL', cache.allKey, cache.keyOf(one.id));
      t.succeeded(del, 'redis-cli DEL');
      for (const [path, key, value] of [
        ['/api/products', cache.allKey, products],
        [`/api/products/${one.id}`, cache.keyOf(one.id), one],
      ] as const) {
        const get = () => t.inNs(gw.name, `curl ${curl} -w '\\n%{http_code}' http://localhost:${gw.port}${path}`);
        t.equal(answer(t, await get(), `GET ${path}`), { body: value, code: 200 }, `GET ${path}`);
        const seconds = Number((await t.redis('TTL', key)).stdout.trim());
        t.ok(seconds > 0, `after GET ${path}, Redis holds no ${key} with a TTL (TTL says ${seconds})`);
        t.ok(seconds <= cache.ttlSeconds, `${key}'s TTL is ${seconds}, over ${cache.ttlSeconds}`);
        const cached = await t.redis('GET', key);
        t.equal(JSON.parse(cached.stdout) as unknown, value, `what Redis holds under ${key}`);
        const before = await hits(t);
        t.equal(answer(t, await get(), `GET ${path} again`), { body: value, code: 200 }, `GET ${path} again`);
        t.ok((await hits(t)) > before, `the second GET of ${path} was not read from Redis (its keyspace_hits did not grow)`);
      }
    },
  },
  {
    id: '2.4-order-listening',
    deliverable: '2.4-order-listening',
    title: `order-service listens on :${order.port}`,
    tools: ['ip', 'ss'],
    async run(t) {
      t.match((await listening(t, order.name, order.port)).stdout, listens(order.port), `a listener on :${order.port} in ${order.name}`);
    },
  },
  {
    id: '2.4-postgres-running',
    deliverable: '2.4-postgres-running',
    title: 'PostgreSQL runs: in postgres-db, in a container publishing it, or on the host behind the bridge',
    tools: ['ps', 'ss'],
    async run(t) {
      const where = t.some(postgresAt(t.lab.model)?.where, `no PostgreSQL in ${pg.name}, in a container publishing ${pg.port}, or on the host behind the bridge`);
      const e = runningEvidence[where];
      t.match((await t.on(where === 'namespace' ? t.hostOf(pg.name) : undefined, e.command)).stdout, e.shows, e.what);
    },
  },
  {
    id: '2.4-postgres-listening',
    deliverable: '2.4-postgres-listening',
    title: 'PostgreSQL accepts connections where it was found (pg_isready)',
    tools: ['pg_isready'],
    async run(t) {
      const { host, port: p } = t.lab.pg;
      const r = await t.on(t.hostHaving(host), `pg_isready -h ${host} -p ${p} -t 5`);
      t.succeeded(r, `pg_isready -h ${host}`);
      t.match(r.stdout, /accepting connections/, 'pg_isready');
    },
  },
  {
    id: '2.4-order-reaches-postgres',
    deliverable: '2.4-order-reaches-postgres',
    title: 'order-service reaches PostgreSQL (nc -zv)',
    tools: ['ip', 'nc'],
    async run(t) {
      const { host, port: p } = t.lab.pg;
      const r = await t.inNs(order.name, `nc -zv -w 3 ${host} ${p}`);
      t.succeeded(r, `${order.name} opens ${host}:${p}`);
      t.match(r.stderr, /succeeded|open/, 'nc says the port is open');
    },
  },
  {
    id: '2.4-order-written',
    deliverable: '2.4-order-written',
    title: "the seed's POST through the gateway namespace creates the order (201)",
    tools: ['ip', 'curl'],
    async run(t) {
      t.lab.shared.set('order', created(t, await t.inNs(gw.name, `curl ${post} http://localhost:${gw.port}/api/orders`), 'POST /api/orders'));
    },
  },
  {
    id: '2.4-order-read-back',
    deliverable: '2.4-order-read-back',
    title: 'the row read straight from PostgreSQL equals what was sent (SELECT * FROM orders)',
    tools: ['psql'],
    after: ['2.4-order-written'],
    async run(t) {
      const id = t.lab.shared.get('order');
      t.ok(typeof id === 'number', 'no order was created to read back (2.4-order-written failed)');
      const all = await t.psql('SELECT * FROM orders;');
      t.succeeded(all, 'SELECT * FROM orders');
      const r = await t.psql(`SELECT customer_id, product_id, quantity, total_price FROM orders WHERE id = ${id};`, '-At', '-F,');
      t.succeeded(r, `the row of order ${id}`);
      t.equal(r.stdout.trim(), orderRow, `the row of order ${id}`);
    },
  },
];
