import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/data/ports.ts';
import { buildGatewayApp } from '../../src/services/gateway/app.ts';
import { MAX_BODY_BYTES } from '../../src/services/http.ts';
import { buildProductApp } from '../../src/services/product/app.ts';
import { hangingServer, json, listen, LOOPBACK, stubUpstream, type Recorded } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Answers like the real services would, echoing what it received so tests can see the relay. */
function respond(req: Recorded, res: import('node:http').ServerResponse) {
  if (req.url === '/products') return json(res, 200, [{ id: '1' }], { 'x-cache': 'HIT' });
  if (req.url === '/products/404') return json(res, 404, { error: 'Product not found' }, { 'x-cache': 'MISS' });
  if (req.url === '/orders' && req.method === 'POST') {
    if (!String(req.headers['content-type']).startsWith('application/json')) return json(res, 415, { error: 'unsupported' });
    return json(res, 201, { order_id: 7, status: 'created' }, { 'idempotent-replayed': 'true', 'x-internal': 'secret' });
  }
  if (req.url === '/orders/private') return json(res, 401, { error: 'needs the operator token' }, { 'www-authenticate': 'Bearer' });
  if (req.url === '/orders/broken') {
    res.writeHead(502, { 'content-type': 'text/plain' });
    return res.end('not json');
  }
  return json(res, 200, { url: req.url });
}

let products: Awaited<ReturnType<typeof stubUpstream>>;
let orders: Awaited<ReturnType<typeof stubUpstream>>;
let app: FastifyInstance;

beforeAll(async () => {
  products = await stubUpstream(respond);
  orders = await stubUpstream(respond);
  app = buildGatewayApp({ productUrl: products.url, orderUrl: orders.url });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await products?.close();
  await orders?.close();
});

const last = (u: { requests: Recorded[] }) => u.requests.at(-1)!;

describe('gateway routing', () => {
  it('reports health', async () => {
    const res = await request(app.server).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'healthy', service: 'api-gateway' });
  });

  it('GET /api/products -> product /products, body, status and X-Cache passed through', async () => {
    const res = await request(app.server).get('/api/products');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ id: '1' }]);
    expect(res.headers['x-cache']).toBe('HIT');
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(last(products)).toMatchObject({ method: 'GET', url: '/products' });
  });

  it('GET /api/products/:id passes an upstream 404 through', async () => {
    const res = await request(app.server).get('/api/products/404');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Product not found' });
    expect(res.headers['x-cache']).toBe('MISS');
  });

  it('encodes the id so it cannot escape the upstream path', async () => {
    const res = await request(app.server).get('/api/products/..%2F..%2Fadmin');
    expect(res.status).toBe(200);
    expect(last(products).url).toBe('/products/..%2F..%2Fadmin');
  });

  it('POST /api/orders relays bytes, Content-Type and Idempotency-Key, and passes 201 back', async () => {
    const body = '{"customer_id":"cust-101","product_id":"prod-201","quantity":2,"total_price":150.00}';
    const res = await request(app.server).post('/api/orders').set('content-type', 'application/json').set('idempotency-key', 'k-1').send(body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ order_id: 7, status: 'created' });
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(res.headers['x-internal']).toBeUndefined();
    const seen = last(orders);
    expect(seen).toMatchObject({ method: 'POST', url: '/orders' });
    expect(seen.body.toString()).toBe(body);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['idempotency-key']).toBe('k-1');
  });

  it('passes a non-JSON Content-Type through so the order service can answer 415', async () => {
    const res = await request(app.server).post('/api/orders').set('content-type', 'text/plain').send('hello');
    expect(res.status).toBe(415);
    expect(last(orders).headers['content-type']).toBe('text/plain');
    expect(last(orders).body.toString()).toBe('hello');
  });

  it('relays a body without Content-Type without inventing one', async () => {
    const res = await request(app.server).post('/api/orders').unset('content-type').send(Buffer.from('{}'));
    expect(res.status).toBe(415);
    expect(last(orders).headers['content-type']).toBeUndefined();
    expect(last(orders).body.toString()).toBe('{}');
  });

  it('relays malformed JSON untouched for the order service to judge', async () => {
    await request(app.server).post('/api/orders').set('content-type', 'application/json').send('{oops');
    expect(last(orders).body.toString()).toBe('{oops');
  });

  it('refuses a body over the limit with 413 JSON and never calls the upstream', async () => {
    const before = orders.requests.length;
    const res = await request(app.server)
      .post('/api/orders')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(orders.requests.length).toBe(before);
  });

  it('GET /api/orders forwards limit and offset only', async () => {
    const res = await request(app.server).get('/api/orders?limit=5&offset=2&drop=1');
    expect(res.status).toBe(200);
    expect(last(orders).url).toBe('/orders?limit=5&offset=2');
    await request(app.server).get('/api/orders');
    expect(last(orders).url).toBe('/orders');
  });

  it('GET /api/orders/:id forwards the id', async () => {
    const res = await request(app.server).get('/api/orders/12');
    expect(res.body).toEqual({ url: '/orders/12' });
  });

  it("relays the operator's Authorization on order reads (the order service judges it) and passes a 401's WWW-Authenticate back", async () => {
    const authorization = 'Bearer operator-token';
    for (const path of ['/api/orders?limit=1', '/api/orders/12']) {
      await request(app.server).get(path).set('authorization', authorization);
      expect(last(orders).headers.authorization, path).toBe(authorization);
    }
    await request(app.server).get('/api/products').set('authorization', authorization);
    expect(last(products).headers.authorization).toBeUndefined();
    const denied = await request(app.server).get('/api/orders/private');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer');
    expect(denied.body).toEqual({ error: 'needs the operator token' });
  });

  it('passes a non-JSON upstream answer through unchanged', async () => {
    const res = await request(app.server).get('/api/orders/broken');
    expect(res.status).toBe(502);
    expect(res.text).toBe('not json');
    expect(res.headers['content-type']).toMatch(/text\/plain/);
  });

  it('answers a malformed path with 400 JSON and its request id, without calling upstream', async () => {
    const before = products.requests.length;
    const res = await request(app.server).get('/api/products/%E0%A4%A').set('x-request-id', 'bad-url');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(res.headers['x-request-id']).toBe('bad-url');
    expect(products.requests.length).toBe(before);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await request(app.server).get('/api/unknown');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not found' });
  });

  it('reuses keep-alive connections to an upstream', async () => {
    const fresh = await stubUpstream(respond);
    const gw = buildGatewayApp({ productUrl: fresh.url, orderUrl: fresh.url });
    try {
      await gw.ready();
      for (let i = 0; i < 5; i++) expect((await request(gw.server).get('/api/products')).status).toBe(200);
      expect(fresh.requests).toHaveLength(5);
      expect(fresh.connections()).toBe(1);
    } finally {
      await gw.close();
      await fresh.close();
    }
  });
});

describe('gateway X-Request-Id', () => {
  it('keeps the client id, sends it upstream and returns it', async () => {
    const res = await request(app.server).get('/api/products').set('x-request-id', 'trace-42');
    expect(res.headers['x-request-id']).toBe('trace-42');
    expect(last(products).headers['x-request-id']).toBe('trace-42');
  });

  it('creates a UUID when the client sends none, and uses the same one upstream', async () => {
    const res = await request(app.server).get('/api/orders/5');
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(last(orders).headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('replaces a malformed id instead of echoing it', async () => {
    const res = await request(app.server).get('/api/products').set('x-request-id', 'x'.repeat(200));
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(last(products).headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('returns the id on gateway-made errors too', async () => {
    const res = await request(app.server).get('/nowhere').set('x-request-id', 'err-1');
    expect(res.headers['x-request-id']).toBe('err-1');
  });
});

describe('gateway with failing upstreams', () => {
  it('answers 503 JSON when an upstream refuses connections, without waiting for its deadline', async () => {
    const closed = `http://${LOOPBACK}:${await freePort()}`;
    // A deadline longer than the test's own timeout: waiting for it would fail the test.
    const gw = buildGatewayApp({ productUrl: closed, orderUrl: closed, timeoutMs: 120_000 });
    try {
      await gw.ready();
      for (const [method, path] of [
        ['get', '/api/products'],
        ['get', '/api/orders/1'],
        ['post', '/api/orders'],
      ] as const) {
        const res = await request(gw.server)
          [method](path)
          .set('content-type', 'application/json')
          .send(method === 'post' ? '{}' : undefined);
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ error: expect.any(String) });
      }
    } finally {
      await gw.close();
    }
  });

  // Upper bounds are the test's timeout: the hung upstream never answers, so only the deadline ends a request.
  it('answers 504 JSON once timeoutMs has passed when an upstream hangs', async () => {
    const hung = await hangingServer();
    const gw = buildGatewayApp({ productUrl: hung.url, orderUrl: hung.url, timeoutMs: 300 });
    try {
      await gw.ready();
      for (const path of ['/api/products/1', '/api/orders']) {
        const started = performance.now();
        const res = await request(gw.server).get(path);
        const elapsed = performance.now() - started;
        expect(res.status).toBe(504);
        expect(res.body).toEqual({ error: expect.any(String) });
        expect(elapsed).toBeGreaterThanOrEqual(250);
      }
    } finally {
      await gw.close();
      await hung.close();
    }
  });

  it('uses the 2 s default deadline', async () => {
    const hung = await hangingServer();
    const gw = buildGatewayApp({ productUrl: hung.url, orderUrl: hung.url });
    try {
      await gw.ready();
      const started = performance.now();
      const res = await request(gw.server).get('/api/products');
      const elapsed = performance.now() - started;
      expect(res.status).toBe(504);
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      // Slack no load adds, yet a default of 10 s or more fails.
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await gw.close();
      await hung.close();
    }
  });
});

describe('gateway in front of the real product service', () => {
  it('relays the catalogue and its X-Cache (BYPASS: this product service has no Redis)', async () => {
    const noRedis = `redis://${LOOPBACK}:${await freePort()}`;
    const product = buildProductApp({ redis: noRedis });
    const productUrl = await listen(product);
    const gw = buildGatewayApp({ productUrl, orderUrl: productUrl });
    try {
      await gw.ready();
      const res = await request(gw.server).get('/api/products/2').set('x-request-id', 'chain-1');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: '2', name: 'Mouse', price: 29.99, stock: 200 });
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.headers['x-request-id']).toBe('chain-1');
      const missing = await request(gw.server).get('/api/products/9');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: 'Product not found' });
    } finally {
      await gw.close();
      await product.close();
    }
  });
});
