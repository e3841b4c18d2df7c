import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { dataAddress, nodeOf } from '../../fixtures/topology.ts';
import { deliverable, sh } from '../support/evidence.ts';
import { inNs, port, tcpProbe } from '../support/checks.ts';
import { redis, redisCli } from '../support/data.ts';

const product = nodeOf('product');
const native = inject('platform').data === 'native';

describe('2.3 product service with Redis', () => {
  it.skipIf(!native)(`Redis listens on :${redis.port} in ${redis.name}, on its own address only`, async () => {
    deliverable('2.3-redis-listening');
    const r = await sh(inNs(redis.name, `ss -lntp | grep ${redis.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*${redis.ip.replaceAll('.', '\\.')}:${redis.port} .*redis-server`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!native)(`${product.name} reaches Redis (nc -zv ${redis.ip} ${redis.port})`, async () => {
    deliverable('2.3-product-reaches-redis');
    const r = await tcpProbe(product.name, redis.ip, redis.port!);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it('Redis refuses a client without the per-run password', async () => {
    const at = dataAddress('redis', inject('platform').data);
    const r = await sh(inNs(product.name, `redis-cli -h ${at.host} -p ${at.port} GET all_products`));
    expect(r.stdout + r.stderr).toMatch(/NOAUTH/);
  });

  it('the first GET is a MISS, the second a HIT, through the whole chain', async () => {
    await sh(redisCli('DEL all_products product_1'));
    const first = await sh(`curl -sS -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(first.stdout).toMatch(/^x-cache: MISS\r?$/im);
    const second = await sh(`curl -sS -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(second.stdout).toMatch(/^x-cache: HIT\r?$/im);
    const one = await sh(`curl -sS -D - -o /dev/null http://localhost:${port}/api/products/1`);
    expect(one.stdout).toMatch(/^x-cache: MISS\r?$/im);
  });

  it('the seed\'s keys all_products and product_<id> are in Redis with TTL in (0, 300]', async () => {
    for (const key of ['all_products', 'product_1']) {
      const ttl = await sh(redisCli(`TTL ${key}`));
      const seconds = Number(ttl.stdout.trim());
      expect(seconds, key).toBeGreaterThan(0);
      expect(seconds, key).toBeLessThanOrEqual(300);
    }
    const cached = await sh(redisCli('GET product_1'));
    expect(JSON.parse(cached.stdout)).toEqual({ id: '1', name: 'Laptop', price: 999.99, stock: 50 });
  });
});
