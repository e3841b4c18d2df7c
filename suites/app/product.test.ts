import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startLocalRedis } from '../../src/data/redis.ts';
import type { LocalServer } from '../../src/data/local.ts';
import { buildProductApp } from '../../src/services/product/app.ts';
import { createCacheClient } from '../../src/services/product/cache.ts';
import { PRODUCTS } from '../../src/services/product/products.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { hangingServer, LOOPBACK } from './helpers.ts';

const SEED = [
  { id: '1', name: 'Laptop', price: 999.99, stock: 50 },
  { id: '2', name: 'Mouse', price: 29.99, stock: 200 },
  { id: '3', name: 'Keyboard', price: 79.99, stock: 150 },
];

let redis: LocalServer;
let inspect: Redis;
let app: FastifyInstance;

beforeAll(async () => {
  redis = await startLocalRedis();
  inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  inspect.on('error', () => {});
  app = buildProductApp({ redis: redis.url });
  await app.ready();
  await waitFor(async () => check((await request(app.server).get('/products')).headers['x-cache'] !== 'BYPASS', 'still BYPASS'), { what: 'the cache connected', timeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  inspect?.disconnect();
  await redis?.stop();
});

beforeEach(async () => {
  await inspect.flushall();
});

describe('product service', () => {
  it('reports health', async () => {
    const res = await request(app.server).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'healthy', service: 'product-service' });
  });

  it("serves the seed's three products", async () => {
    expect([...PRODUCTS.values()]).toEqual(SEED);
    const res = await request(app.server).get('/products');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual(SEED);
  });

  it('caches the list under all_products: MISS then HIT, TTL within (0, 300]', async () => {
    const first = await request(app.server).get('/products');
    expect(first.headers['x-cache']).toBe('MISS');
    expect(JSON.parse((await inspect.get('all_products'))!)).toEqual(SEED);
    const ttl = await inspect.ttl('all_products');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const second = await request(app.server).get('/products');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(SEED);
  });

  it('caches one product under product_<id>', async () => {
    const first = await request(app.server).get('/products/2');
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.body).toEqual(SEED[1]);
    expect(JSON.parse((await inspect.get('product_2'))!)).toEqual(SEED[1]);
    const ttl = await inspect.ttl('product_2');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const second = await request(app.server).get('/products/2');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(SEED[1]);
  });

  it('answers a HIT from Redis, not from the fixture data', async () => {
    const planted = { ...SEED[0], stock: 7 };
    await inspect.set('product_1', JSON.stringify(planted));
    const res = await request(app.server).get('/products/1');
    expect(res.headers['x-cache']).toBe('HIT');
    expect(res.body).toEqual(planted);
  });

  it('treats a corrupt cache entry as a miss and repairs it', async () => {
    await inspect.set('product_3', '{not json');
    const res = await request(app.server).get('/products/3');
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('MISS');
    expect(JSON.parse((await inspect.get('product_3'))!)).toEqual(SEED[2]);
  });

  it('returns 404 JSON for an unknown product and caches nothing', async () => {
    const res = await request(app.server).get('/products/99');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Product not found' });
    expect(await inspect.exists('product_99')).toBe(0);
  });

  it('honours a custom TTL', async () => {
    const short = buildProductApp({ redis: redis.url, ttlSeconds: 42 });
    try {
      await short.ready();
      await waitFor(async () => check((await request(short.server).get('/products/1')).headers['x-cache'] === 'MISS', 'not a MISS yet'), { what: 'a cached product', timeoutMs: 10_000 });
      const ttl = await inspect.ttl('product_1');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(42);
    } finally {
      await short.close();
    }
  });

  it('answers unknown routes with 404 JSON and echoes X-Request-Id', async () => {
    const res = await request(app.server).get('/nope').set('x-request-id', 'abc-123');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not found' });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  it('BYPASSes Redis while it is down, without errors, then caches again when it is back', async () => {
    await request(app.server).get('/products');
    await redis.down();
    try {
      for (const path of ['/products', '/products/1']) {
        const res = await request(app.server).get(path);
        expect(res.status).toBe(200);
        expect(res.headers['x-cache']).toBe('BYPASS');
      }
      expect((await request(app.server).get('/products')).body).toEqual(SEED);
      expect((await request(app.server).get('/products/42')).status).toBe(404);
    } finally {
      await redis.up();
    }
    // The restarted server is empty; once the client has reconnected we see MISS, then HIT.
    const status = await waitFor(
      async () => {
        const s = (await request(app.server).get('/products')).headers['x-cache'];
        check(s !== 'BYPASS', 'still BYPASS');
        return s;
      },
      { what: 'the cache reconnected', timeoutMs: 10_000 },
    );
    expect(status).toBe('MISS');
    expect((await request(app.server).get('/products')).headers['x-cache']).toBe('HIT');
  }, 30_000);

  it('BYPASSes a Redis that accepts connections but never answers, within the command timeout', async () => {
    const hung = await hangingServer();
    const client = createCacheClient({ host: LOOPBACK, port: hung.port });
    const stalled = buildProductApp({ redis: client });
    try {
      await stalled.ready();
      // The hung server never answers: only the command timeout lets this request finish.
      const res = await request(stalled.server).get('/products/1');
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.body).toEqual(SEED[0]);
    } finally {
      await stalled.close();
      client.disconnect();
      await hung.close();
    }
  });

  it('leaves a caller-provided client open on close', async () => {
    const client = createCacheClient(redis.url);
    const borrowed = buildProductApp({ redis: client });
    await borrowed.ready();
    await borrowed.close();
    try {
      await waitFor(() => check(client.status === 'ready', `client ${client.status}`), { what: 'the cache client ready', timeoutMs: 10_000 });
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
