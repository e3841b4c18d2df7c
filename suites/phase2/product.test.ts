import { describe, expect, it } from 'vitest';
import { nodeOf } from '../../fixtures/topology.ts';
import { escapeRegExp } from '../../src/text.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { nsCommand, tcpProbe } from '../support/checks.ts';
import { redis, redisAt, redisCommand } from '../support/data.ts';
import { cache, products } from '../support/seed.ts';
import { platformInfo } from '../support/platform.ts';

const product = nodeOf('product');
const gw = nodeOf('gateway');
const native = platformInfo().data === 'native';
const one = products[1]!;

/** The seed's 2.3 request (api-gateway -> product-service), with the reply's status, X-Cache and JSON body. */
async function get(path: string) {
  const r = await recordedShell(nsCommand(gw.name, `curl -sS -D - http://localhost:${gw.port}${path}`));
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
  it.skipIf(!native)(`Redis listens on :${redis.port} in ${redis.name}, on its own address only`, async () => {
    deliverable('2.3-redis-listening');
    const r = await recordedShell(nsCommand(redis.name, `ss -lntp | grep ${redis.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*${escapeRegExp(redis.ip)}:${redis.port} .*redis-server`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!native)(`${product.name} reaches Redis (nc -zv ${redis.ip} ${redis.port})`, async () => {
    deliverable('2.3-product-reaches-redis');
    const r = await tcpProbe(product.name, redis.ip, redis.port!);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it('Redis refuses a client without the per-run password', async () => {
    const r = await recordedShell(nsCommand(product.name, `redis-cli -h ${redisAt.host} -p ${redisAt.port} GET ${cache.allKey}`));
    expect(r.stdout + r.stderr).toMatch(/NOAUTH/);
  });

  it(`with its keys cleared, GET /api/products is a MISS, then a HIT that Redis itself counts; /api/products/${one.id} likewise`, async () => {
    deliverable('2.3-redis-listening', '2.3-product-reaches-redis');
    const del = await redisCommand('DEL', cache.allKey, cache.keyOf(one.id));
    expect(del.exitCode, del.stderr).toBe(0);
    const first = await get('/api/products');
    expect(first).toEqual({ status: 200, cache: 'MISS', body: products });
    const before = await keyspace();
    const second = await get('/api/products');
    expect(second).toEqual({ status: 200, cache: 'HIT', body: products });
    const after = await keyspace();
    // The HIT was read from Redis: a lookup found its value, and none came back empty.
    expect(after.hits).toBeGreaterThan(before.hits);
    expect(after.misses).toBe(before.misses);
    expect(await get(`/api/products/${one.id}`)).toEqual({ status: 200, cache: 'MISS', body: one });
    expect(await get(`/api/products/${one.id}`)).toEqual({ status: 200, cache: 'HIT', body: one });
  });

  it(`the seed's keys ${cache.allKey} and ${cache.keyOf('<id>')} hold what was served, with TTL in (0, ${cache.ttlSeconds}]`, async () => {
    deliverable('2.3-redis-listening', '2.3-product-reaches-redis');
    for (const [path, key, value] of [
      ['/api/products', cache.allKey, products],
      [`/api/products/${one.id}`, cache.keyOf(one.id), one],
    ] as const) {
      expect((await get(path)).status).toBe(200);
      const ttl = await redisCommand('TTL', key);
      const seconds = Number(ttl.stdout.trim());
      expect(seconds, key).toBeGreaterThan(0);
      expect(seconds, key).toBeLessThanOrEqual(cache.ttlSeconds);
      const cached = await redisCommand('GET', key);
      expect(JSON.parse(cached.stdout), key).toEqual(value);
    }
  });
});
