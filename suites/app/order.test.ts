import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../src/data/local.ts';
import { startLocalPostgres } from '../../src/data/postgres.ts';
import { generatePassword } from '../../src/data/password.ts';
import { buildOrderApp, createOrderPool, ensureSchema, STATEMENT_TIMEOUT_MS } from '../../src/services/order/app.ts';
import { MAX_OFFSET } from '../../src/services/order/validate.ts';
import { check, waitFor } from '../../src/util/wait.ts';

const SEED_ORDER = { customer_id: 'cust-101', product_id: 'prod-201', quantity: 2, total_price: 150.0 };
const OPERATOR = generatePassword();

let db: LocalServer;
let pool: pg.Pool;
let app: FastifyInstance;

beforeAll(async () => {
  db = await startLocalPostgres();
  pool = createOrderPool(db.url);
  await ensureSchema(pool);
  app = buildOrderApp({ pool, operatorToken: OPERATOR });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.stop();
});

async function orderCount(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  return rows[0]!.n;
}

/** A GET with the operator's token: orders are read by the operator only. */
const read = (path: string) => request(app.server).get(path).set('authorization', `Bearer ${OPERATOR}`);

const post = (body: unknown) =>
  request(app.server)
    .post('/orders')
    .send(body as object);

describe('order service schema', () => {
  it("creates the seed's orders table exactly, and can run again (also concurrently)", async () => {
    await Promise.all([ensureSchema(pool), ensureSchema(pool), ensureSchema(pool)]);
    const { rows } = await pool.query(
      `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, column_default
         FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`,
    );
    expect(rows.map((r) => [r.column_name, r.data_type])).toEqual([
      ['id', 'integer'],
      ['customer_id', 'character varying'],
      ['product_id', 'character varying'],
      ['quantity', 'integer'],
      ['total_price', 'numeric'],
      ['created_at', 'timestamp without time zone'],
    ]);
    expect(rows[0].column_default).toMatch(/^nextval/);
    expect(rows[1].character_maximum_length).toBe(100);
    expect(rows[2].character_maximum_length).toBe(100);
    expect([rows[4].numeric_precision, rows[4].numeric_scale]).toEqual([10, 2]);
    expect(rows[5].column_default).toBe('CURRENT_TIMESTAMP');
    const pk = await pool.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'orders'::regclass AND i.indisprimary`,
    );
    expect(pk.rows.map((r) => r.attname)).toEqual(['id']);
    const keys = await pool.query(`SELECT to_regclass('order_idempotency_keys') AS t`);
    expect(keys.rows[0].t).toBe('order_idempotency_keys');
  });
});

describe('order service routes', () => {
  it('reports health', async () => {
    const res = await request(app.server).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'healthy', service: 'order-service' });
  });

  it("creates the seed's order (201) and reads it back in the seed's shape", async () => {
    const before = Date.now();
    const created = await post(SEED_ORDER);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ order_id: expect.any(Number), status: 'created' });
    const res = await read(`/orders/${created.body.order_id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: created.body.order_id, ...SEED_ORDER, total_price: 150, created_at: expect.any(String) });
    expect(typeof res.body.total_price).toBe('number');
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(res.body.created_at) - before)).toBeLessThan(60_000);
    const { rows } = await pool.query('SELECT total_price::text AS p FROM orders WHERE id = $1', [created.body.order_id]);
    expect(rows[0].p).toBe('150.00');
  });

  it('stores prices exactly to the cent and accepts the boundaries', async () => {
    for (const body of [
      { ...SEED_ORDER, total_price: 0.29, quantity: 1 },
      { ...SEED_ORDER, total_price: 0, quantity: 10_000 },
      { ...SEED_ORDER, total_price: 99_999_999.99, customer_id: 'c'.repeat(100), product_id: '😀'.repeat(100) },
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const got = await read(`/orders/${res.body.order_id}`);
      expect(got.body).toMatchObject(body);
    }
  });

  it('lists orders newest first with limit (default 20, max 100) and offset', async () => {
    for (let i = 0; i < 25; i++) expect((await post({ ...SEED_ORDER, customer_id: `list-${i}` })).status).toBe(201);
    const all = await read('/orders');
    expect(all.status).toBe(200);
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body).toHaveLength(20);
    const ids = all.body.map((o: { id: number }) => o.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.body[0].customer_id).toBe('list-24');
    expect(all.body[0]).toEqual({
      id: expect.any(Number),
      ...SEED_ORDER,
      customer_id: 'list-24',
      created_at: expect.any(String),
    });
    const page = await read('/orders?limit=5&offset=2');
    expect(page.body.map((o: { customer_id: string }) => o.customer_id)).toEqual(['list-22', 'list-21', 'list-20', 'list-19', 'list-18']);
    const max = await read('/orders?limit=100');
    expect(max.body.length).toBe(Math.min(100, await orderCount()));
    const last = await read(`/orders?offset=${MAX_OFFSET}`);
    expect(last.body).toEqual([]);
  });

  it.each(['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'limit=-1', 'offset=-1', 'offset=x', `offset=${MAX_OFFSET + 1}`, 'offset=1000000000', 'limit=1&limit=2'])(
    'rejects GET /orders?%s with 400 JSON',
    async (qs) => {
      const res = await read(`/orders?${qs}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    },
  );

  it.each(['abc', '1.5', '-1', '1e3', '%20', '%', '%E0%A4%A'])('rejects non-numeric order id %s with 400', async (id) => {
    const res = await read(`/orders/${id}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual(expect.any(String));
  });

  it.each(['0', '99999999', '2147483648', '99999999999999999999'])('answers 404 JSON for order id %s', async (id) => {
    const res = await read(`/orders/${id}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Order not found' });
  });
});

describe("who reads orders: the operator's token, or nothing of any customer", () => {
  it("a stranger's GET /orders lists no order, only how many there are; GET /orders/:id is 401 JSON", async () => {
    const created = await post({ ...SEED_ORDER, customer_id: 'someone-else' });
    expect(created.status).toBe(201);
    const list = await request(app.server).get('/orders?limit=100');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ count: await orderCount(), note: expect.stringContaining('Authorization: Bearer') });
    expect(JSON.stringify(list.body)).not.toContain('someone-else');
    const one = await request(app.server).get(`/orders/${created.body.order_id}`);
    expect(one.status).toBe(401);
    expect(one.headers['www-authenticate']).toBe('Bearer');
    expect(one.body).toEqual({ error: expect.stringContaining('operator') });
  });

  it.each([
    ['a wrong token', `Bearer ${generatePassword()}`],
    ['the token one character short', `Bearer ${OPERATOR.slice(1)}`],
    ['another scheme', `Basic ${Buffer.from(`operator:${OPERATOR}`).toString('base64')}`],
    ['an empty bearer', 'Bearer '],
  ])('%s is 401 JSON on the list and on one order', async (_name, authorization) => {
    for (const path of ['/orders', '/orders/1']) {
      const res = await request(app.server).get(path).set('authorization', authorization);
      expect(res.status, path).toBe(401);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
  });

  it("the operator's token lists every customer's orders", async () => {
    const created = await post({ ...SEED_ORDER, customer_id: 'listed-for-the-operator' });
    const list = await read('/orders');
    expect(list.status).toBe(200);
    expect(list.body[0]).toMatchObject({ id: created.body.order_id, customer_id: 'listed-for-the-operator' });
  });

  it('strangers asking at once share one count: one query, one answer', async () => {
    const spied = createOrderPool(db.url);
    let counts = 0;
    const query = spied.query.bind(spied) as (...args: unknown[]) => unknown;
    spied.query = ((...args: unknown[]) => {
      if (String(args[0]).includes('count(*)')) counts++;
      return query(...args);
    }) as typeof spied.query;
    const counted = buildOrderApp({ pool: spied, closePool: true });
    let received = 0;
    counted.addHook('onRequest', async () => {
      received++;
    });
    await counted.ready();
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      // The table locked, the first count waits in PostgreSQL while the others come in.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const answers = Promise.all(Array.from({ length: 10 }, () => request(counted.server).get('/orders')));
      await waitFor(() => check(received === 10 && counts > 0, `${received} requests in, ${counts} counts`), { what: 'ten strangers asking', timeoutMs: 10_000, intervalMs: 10 });
      expect(counts).toBe(1);
      await locker.query('ROLLBACK');
      expect(new Set((await answers).map((r) => JSON.stringify([r.status, r.body]))).size).toBe(1);
    } finally {
      await locker.end();
      await counted.close();
    }
  });

  it('a service started without an operator token lists orders to nobody', async () => {
    const closed = buildOrderApp({ pool });
    await closed.ready();
    try {
      expect((await request(closed.server).get('/orders')).body).toEqual({ count: await orderCount(), note: expect.any(String) });
      expect((await request(closed.server).get('/orders').set('authorization', `Bearer ${OPERATOR}`)).status).toBe(401);
    } finally {
      await closed.close();
    }
  });
});

describe('a slow query is cancelled by PostgreSQL itself (statement_timeout), not only given up by the client', () => {
  it('the server cancels a statement that outlasts it: SQLSTATE 57014', async () => {
    // Twice the server's limit: still within the client's own query_timeout (5 s), which would fail it without a code.
    await expect(pool.query('SELECT pg_sleep($1)', [(2 * STATEMENT_TIMEOUT_MS) / 1000])).rejects.toMatchObject({ code: '57014' });
  }, 15_000);

  it('a listing stuck behind a lock is answered 503 JSON once the server cancels it', async () => {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const res = await read('/orders');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'Database did not answer in time' });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  }, 15_000);
});

describe('order validation: 4xx JSON and nothing written', () => {
  const omit = (field: string) => Object.fromEntries(Object.entries(SEED_ORDER).filter(([k]) => k !== field));
  const cases: [string, unknown][] = [
    ['missing customer_id', omit('customer_id')],
    ['missing product_id', omit('product_id')],
    ['missing quantity', omit('quantity')],
    ['missing total_price', omit('total_price')],
    ['numeric customer_id', { ...SEED_ORDER, customer_id: 101 }],
    ['null product_id', { ...SEED_ORDER, product_id: null }],
    ['empty customer_id', { ...SEED_ORDER, customer_id: '' }],
    ['empty product_id', { ...SEED_ORDER, product_id: '' }],
    ['101-character customer_id', { ...SEED_ORDER, customer_id: 'c'.repeat(101) }],
    ['101-character product_id', { ...SEED_ORDER, product_id: 'é'.repeat(101) }],
    ['NUL in customer_id', { ...SEED_ORDER, customer_id: 'a\u0000b' }],
    ['lone surrogate in product_id', { ...SEED_ORDER, product_id: 'a\uD800' }],
    ['quantity 0', { ...SEED_ORDER, quantity: 0 }],
    ['quantity 10001', { ...SEED_ORDER, quantity: 10_001 }],
    ['quantity 1.5', { ...SEED_ORDER, quantity: 1.5 }],
    ['quantity as string', { ...SEED_ORDER, quantity: '2' }],
    ['negative total_price', { ...SEED_ORDER, total_price: -0.01 }],
    ['total_price with 3 decimals', { ...SEED_ORDER, total_price: 1.005 }],
    ['total_price as string', { ...SEED_ORDER, total_price: '150.00' }],
    ['total_price too large for DECIMAL(10,2)', { ...SEED_ORDER, total_price: 100_000_000 }],
    ['total_price 1e308', { ...SEED_ORDER, total_price: 1e308 }],
    ['array body', [SEED_ORDER]],
    ['null body', null],
  ];

  it.each(cases)('%s -> 400', async (_name, body) => {
    const before = await orderCount();
    const res = await request(app.server).post('/orders').set('content-type', 'application/json').send(JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await orderCount()).toBe(before);
  });

  const raw: [string, string, string, number][] = [
    ['malformed JSON', 'application/json', '{"customer_id": "x",', 400],
    ['empty JSON body', 'application/json', '', 400],
    ['a JSON string', 'application/json', '"order"', 400],
    ['prototype poisoning', 'application/json', '{"__proto__": {"x": 1}, "customer_id": "a"}', 400],
    ['text/plain', 'text/plain', JSON.stringify(SEED_ORDER), 415],
    ['form encoding', 'application/x-www-form-urlencoded', 'customer_id=a', 415],
    ['body over 16 KiB', 'application/json', JSON.stringify({ ...SEED_ORDER, pad: 'x'.repeat(17 * 1024) }), 413],
  ];

  it.each(raw)('%s (%s) -> %i', async (_name, type, body, status) => {
    const before = await orderCount();
    const res = await request(app.server).post('/orders').set('content-type', type).send(body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await orderCount()).toBe(before);
  });

  it('a body without Content-Type -> 415', async () => {
    const res = await request(app.server)
      .post('/orders')
      .unset('content-type')
      .send(Buffer.from(JSON.stringify(SEED_ORDER)));
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: expect.any(String) });
  });

  it('accepts a JSON Content-Type with charset', async () => {
    const res = await request(app.server).post('/orders').set('content-type', 'application/json; charset=utf-8').send(JSON.stringify(SEED_ORDER));
    expect(res.status).toBe(201);
  });
});

describe('order idempotency', () => {
  it('a retried POST with the same key returns the first order (200, Idempotent-Replayed) and writes one row', async () => {
    const before = await orderCount();
    const first = await post(SEED_ORDER).set('idempotency-key', 'retry-1');
    expect(first.status).toBe(201);
    const again = await post(SEED_ORDER).set('idempotency-key', 'retry-1');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await orderCount()).toBe(before + 1);
  });

  it('the same key with a different order is 422 and writes nothing', async () => {
    await post(SEED_ORDER).set('idempotency-key', 'retry-2').expect(201);
    const before = await orderCount();
    const res = await post({ ...SEED_ORDER, quantity: 3 }).set('idempotency-key', 'retry-2');
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await orderCount()).toBe(before);
  });

  it('concurrent requests with one key create exactly one order', async () => {
    const before = await orderCount();
    const results = await Promise.all(Array.from({ length: 20 }, () => post({ ...SEED_ORDER, customer_id: 'race' }).set('idempotency-key', 'race-1')));
    const ids = new Set(results.map((r) => r.body.order_id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect(await orderCount()).toBe(before + 1);
    const keyed = await pool.query(`SELECT order_id FROM order_idempotency_keys WHERE key = 'race-1'`);
    expect(keyed.rows).toEqual([{ order_id: [...ids][0] }]);
  });

  it('different keys create different orders', async () => {
    const a = await post(SEED_ORDER).set('idempotency-key', 'distinct-a');
    const b = await post(SEED_ORDER).set('idempotency-key', 'distinct-b');
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.order_id).not.toBe(b.body.order_id);
  });

  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'a b'],
    ['empty', ''],
  ])('rejects an Idempotency-Key %s with 400', async (_name, key) => {
    const before = await orderCount();
    const res = await post(SEED_ORDER).set('idempotency-key', key);
    expect(res.status).toBe(400);
    expect(await orderCount()).toBe(before);
  });
});

describe('order service without its database', () => {
  it('answers 503 JSON, writes nothing, and recovers when the database returns', async () => {
    const before = await orderCount();
    await db.down();
    try {
      const created = await post(SEED_ORDER).set('idempotency-key', 'during-outage');
      expect(created.status).toBe(503);
      expect(created.body).toEqual({ error: expect.any(String) });
      const one = await read('/orders/1');
      expect(one.status).toBe(503);
      const list = await read('/orders');
      expect(list.status).toBe(503);
      expect((await read('/orders/abc')).status).toBe(400);
      expect((await request(app.server).get('/health')).status).toBe(200);
    } finally {
      await db.up();
    }
    expect(await orderCount()).toBe(before);
    const keyed = await pool.query(`SELECT 1 FROM order_idempotency_keys WHERE key = 'during-outage'`);
    expect(keyed.rowCount).toBe(0);
    const after = await post(SEED_ORDER).set('idempotency-key', 'during-outage');
    expect(after.status).toBe(201);
  }, 30_000);
});
