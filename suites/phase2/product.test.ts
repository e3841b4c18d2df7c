import { describe, expect, it } from 'vitest';
import { cache, products } from '../../src/grader/contract.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { nsCommand } from '../support/checks.ts';
import { redisCommand } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { recordedShell } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { redisLogin } from '../support/live.ts';

const product = contractNs('product-service');
const redis = contractNs('redis-cache');
const gw = contractNs('api-gateway');
const one = products[1]!;
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
  // Side by side but the cache check, whose keys ecomnet's X-Cache check clears too: it runs alone, before it.
  judged(checksOf('2.3-redis-listening', '2.3-product-reaches-redis'), { concurrent: true });

  (inNamespace ? it.concurrent : it.concurrent.skip)(`Redis listens in ${redis.name} on its own address only`, async () => {
    const r = await recordedShell(nsCommand(redis.name, `ss -lntp | grep ${redis.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*${escapeRegExp(redis.ip)}:${redis.port} .*redis-server`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('Redis refuses a client without the per-run password', async () => {
    const r = await recordedShell(nsCommand(product.name, `redis-cli -h ${redisLogin.host} -p ${redisLogin.port} GET ${cache.allKey}`));
    expect(r.stdout + r.stderr).toMatch(/NOAUTH/);
  });

  it(`ecomnet's X-Cache: with its keys cleared, GET /api/products is a MISS, then a HIT that Redis itself counts; /api/products/${one.id} likewise`, async () => {
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
