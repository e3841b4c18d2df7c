import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../src/data/local.ts';
import { ORDER_ROLE, postgresUrl, provisionOrderRoles, READER_ROLE, startLocalPostgres } from '../../src/data/postgres.ts';
import { buildOrderApp } from '../../src/services/order/app.ts';

/**
 * The order service's and the operator's PostgreSQL roles, on a real cluster: the service's
 * owns its tables and may do nothing else; the operator's only reads orders. The same function
 * sets up the platform's cluster in both data modes.
 */

const passwords = { orders: 'orders-pw-1', reader: 'reader-pw-1' };
const operatorToken = 'operator-token-1';
let db: LocalServer;
let app: FastifyInstance;
const clients: pg.Client[] = [];

async function login(user: string, password: string, database = 'orders'): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: postgresUrl({ host: db.host, port: db.port, user, password, database }) });
  await c.connect();
  clients.push(c);
  return c;
}
const outcome = (c: pg.Client, sql: string) =>
  c.query(sql).then(
    () => 'allowed',
    (e: Error) => e.message,
  );

beforeAll(async () => {
  db = await startLocalPostgres();
  await provisionOrderRoles({ host: db.host, port: db.port, password: db.password }, passwords);
  app = buildOrderApp({ pool: postgresUrl({ host: db.host, port: db.port, user: ORDER_ROLE, password: passwords.orders }), operatorToken });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await app?.close();
  await db?.stop();
});

describe(`${ORDER_ROLE}: what the order service logs in as`, () => {
  it('serves the order API: creates orders, with an idempotency key too, and reads them back', async () => {
    const body = { customer_id: 'cust-101', product_id: 'prod-201', quantity: 2, total_price: 150 };
    const created = await request(app.server).post('/orders').set('Idempotency-Key', 'k-1').send(body);
    expect(created.status, created.text).toBe(201);
    const again = await request(app.server).post('/orders').set('Idempotency-Key', 'k-1').send(body);
    expect(again.body.order_id).toBe(created.body.order_id);
    const read = await request(app.server).get(`/orders/${created.body.order_id}`).set('authorization', `Bearer ${operatorToken}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject(body);
  });

  it('is no superuser and cannot create roles or databases; owns the order tables and nothing else', async () => {
    const c = await login(ORDER_ROLE, passwords.orders);
    const r = await c.query('SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user');
    expect(r.rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false });
    const owned = await c.query("SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user AND c.relkind = 'r' ORDER BY 1");
    expect(owned.rows.map((x) => x.relname)).toEqual(['order_idempotency_keys', 'orders']);
  });

  it('cannot create a table (not even a temporary one), read the password hashes, or become another role', async () => {
    const c = await login(ORDER_ROLE, passwords.orders);
    expect(await outcome(c, 'CREATE TABLE stolen (x int)')).toMatch(/permission denied for schema public/);
    expect(await outcome(c, 'CREATE TEMP TABLE stolen (x int)')).toMatch(/permission denied to create temporary tables/);
    expect(await outcome(c, 'SELECT * FROM pg_authid')).toMatch(/permission denied/);
    expect(await outcome(c, 'SET ROLE postgres')).toMatch(/permission denied/);
    expect(await outcome(c, `SET ROLE ${READER_ROLE}`)).toMatch(/permission denied/);
    expect(await outcome(c, 'CREATE DATABASE stolen')).toMatch(/permission denied/);
  });

  it('cannot connect to any other database', async () => {
    await expect(login(ORDER_ROLE, passwords.orders, 'postgres')).rejects.toThrow(/permission denied for database "postgres"/);
  });
});

describe(`${READER_ROLE}: the operator's login for the seed's SELECT * FROM orders`, () => {
  it('reads orders, and cannot insert, change or delete them, nor read anything else', async () => {
    const c = await login(READER_ROLE, passwords.reader);
    expect(await outcome(c, 'SELECT * FROM orders;')).toBe('allowed');
    expect(await outcome(c, "INSERT INTO orders (customer_id) VALUES ('intruder')")).toMatch(/permission denied for table orders/);
    expect(await outcome(c, 'UPDATE orders SET quantity = 0')).toMatch(/permission denied for table orders/);
    expect(await outcome(c, 'DELETE FROM orders')).toMatch(/permission denied for table orders/);
    expect(await outcome(c, 'SELECT * FROM order_idempotency_keys')).toMatch(/permission denied/);
    expect(await outcome(c, 'CREATE TABLE stolen (x int)')).toMatch(/permission denied/);
  });
});

describe('provisioning again (a restarted PostgreSQL, the next run)', () => {
  it('keeps the orders and sets the new passwords: the old ones stop working', async () => {
    const before = (await (await login(READER_ROLE, passwords.reader)).query('SELECT count(*)::int AS n FROM orders')).rows[0].n as number;
    const next = { orders: 'orders-pw-2', reader: 'reader-pw-2' };
    await provisionOrderRoles({ host: db.host, port: db.port, password: db.password }, next);
    await expect(login(READER_ROLE, passwords.reader)).rejects.toThrow(/password authentication failed/);
    const c = await login(READER_ROLE, next.reader);
    expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(before);
  });
});
