import { describe, expect, it } from 'vitest';
import { cache, products } from '../../src/grader/contract.ts';
import { escapeRegExp } from '../../src/text.ts';
import { nsCommand, tcpProbe } from '../support/checks.ts';
import { redisCommand } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { ecomnetExtras, redisLogin } from '../support/live.ts';

const product = contractNs('product-service');
const redis = contractNs('redis-cache');
const gw = contractNs('api-gateway');
const one = products[1]!;
const extras = ecomnetExtras('2.3 product extras');
/** The seed runs Redis in redis-cache; a platform may publish it on the bridge address from a container instead. */
const inNamespace = redisLogin.host === redis.ip;

/** The seed's 2.3 request (api-gateway -> product-service), with the reply's status, X-Cache and JSON body. */
async function get(path: string) {
  const r = await recordedShell(nsCommand(gw.name, `curl -sS -m 5 -D - http://localhost:${gw.port}${path}`));
  expect(r.exitCode, r.stderr).toBe(0);
  const [head = '', body = ''] = r.stdout.split('\r\n\r\n');
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]),
    cache: /^x-cache: (\S+)$/im.exec(head)?.[1],
    body: JSON.parse(body) as unknown,
  };
}

/** Redis's own counters of key lookups that found a value, and that did not. */
async function keyspace() {
  const r = await redisCommand('INFO', 'stats');
  expect(r.exitCode, r.stderr).toBe(0);
  const stat = (name: string) => Number(new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(r.stdout)?.[1]);
  const counts = { hits: stat('keyspace_hits'), misses: stat('keyspace_misses') };
  expect(Number.isInteger(counts.hits) && Number.isInteger(counts.misses), r.stdout).toBe(true);
  return counts;
}

describe('2.3 product service with Redis caching', () => {
  // The first four run side by side: they only read, and the cache check's keys are touched by no
  // other of them. ecomnet's X-Cache check clears the same keys, so it waits for them.
  it.concurrent(`Redis listens on :${redis.port} ${inNamespace ? `in ${redis.name}` : `on the bridge address ${redisLogin.host}`}`, async () => {
    deliverable('2.3-redis-listening');
    const r = await recordedShell(inNamespace ? nsCommand(redis.name, `ss -lntp | grep ${redis.port}`) : `ss -lnt | grep ${redis.port}`);
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*(${escapeRegExp(redisLogin.host)}|0\\.0\\.0\\.0|\\*|\\[::\\]):${redis.port}\\s`));
    const ping = await redisCommand('PING');
    expect(ping.stdout.trim(), ping.stderr).toBe('PONG');
  });

  (extras && inNamespace ? it.concurrent : it.concurrent.skip)(`Redis listens in ${redis.name} on its own address only`, async () => {
    const r = await recordedShell(nsCommand(redis.name, `ss -lntp | grep ${redis.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*${escapeRegExp(redis.ip)}:${redis.port} .*redis-server`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it.concurrent(`${product.name} reaches Redis (nc -zv ${redisLogin.host} ${redis.port})`, async () => {
    deliverable('2.3-product-reaches-redis');
    const r = await tcpProbe(product.name, redisLogin.host, redis.port);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it.concurrent(`the product service caches in Redis: after a GET the seed's keys ${cache.allKey} and ${cache.keyOf(one.id)} hold what was served with TTL in (0, ${cache.ttlSeconds}], and Redis counts a hit on the next GET`, async () => {
    deliverable('2.3-product-reaches-redis');
    const del = await redisCommand('DEL', cache.allKey, cache.keyOf(one.id));
    expect(del.exitCode, del.stderr).toBe(0);
    for (const [path, key, value] of [
      ['/api/products', cache.allKey, products],
      [`/api/products/${one.id}`, cache.keyOf(one.id), one],
    ] as const) {
      expect(await get(path)).toMatchObject({ status: 200, body: value });
      const ttl = await redisCommand('TTL', key);
      const seconds = Number(ttl.stdout.trim());
      expect(seconds, `${key} exists with a TTL`).toBeGreaterThan(0);
      expect(seconds, key).toBeLessThanOrEqual(cache.ttlSeconds);
      const cached = await redisCommand('GET', key);
      expect(JSON.parse(cached.stdout), key).toEqual(value);
      const before = await keyspace();
      expect(await get(path)).toMatchObject({ status: 200, body: value });
      expect((await keyspace()).hits, `the second GET of ${path} was read from Redis`).toBeGreaterThan(before.hits);
    }
  });

  it.runIf(extras)('Redis refuses a client without the per-run password', async () => {
    const r = await recordedShell(nsCommand(product.name, `redis-cli -h ${redisLogin.host} -p ${redisLogin.port} GET ${cache.allKey}`));
    expect(r.stdout + r.stderr).toMatch(/NOAUTH/);
  });

  it.runIf(extras)(`ecomnet's X-Cache: with its keys cleared, GET /api/products is a MISS, then a HIT that Redis itself counts; /api/products/${one.id} likewise`, async () => {
    const del = await redisCommand('DEL', cache.allKey, cache.keyOf(one.id));
    expect(del.exitCode, del.stderr).toBe(0);
    const first = await get('/api/products');
    expect(first).toEqual({ status: 200, cache: 'MISS', body: products });
    const before = await keyspace();
    const second = await get('/api/products');
    expect(second).toEqual({ status: 200, cache: 'HIT', body: products });
    const after = await keyspace();
    expect(after.hits).toBeGreaterThan(before.hits);
    expect(after.misses).toBe(before.misses);
    expect(await get(`/api/products/${one.id}`)).toEqual({ status: 200, cache: 'MISS', body: one });
    expect(await get(`/api/products/${one.id}`)).toEqual({ status: 200, cache: 'HIT', body: one });
  });
});
