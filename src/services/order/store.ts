import type { Pool, PoolClient } from 'pg';
import type { NewOrder, Page } from './validate.ts';

/** An order as the seed's GET /orders/<id> returns it. */
export interface Order {
  id: number;
  customer_id: string;
  product_id: string;
  quantity: number;
  total_price: number;
  created_at: string | null;
}

export type CreateResult = { kind: 'created'; orderId: number } | { kind: 'replayed'; orderId: number } | { kind: 'conflict'; orderId: number };

// created_at is a zone-less TIMESTAMP written in the session zone; reading it back in that
// zone as timestamptz gives node an absolute instant whatever TZ node itself runs in.
const COLUMNS = `id, customer_id, product_id, quantity, total_price,
  created_at AT TIME ZONE current_setting('TimeZone') AS created_at`;

interface OrderRow {
  id: number;
  customer_id: string;
  product_id: string;
  quantity: number;
  total_price: string;
  created_at: Date | null;
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customer_id: row.customer_id,
    product_id: row.product_id,
    quantity: row.quantity,
    total_price: Number(row.total_price),
    created_at: row.created_at ? row.created_at.toISOString() : null,
  };
}

export async function getOrder(pool: Pool, id: number): Promise<Order | undefined> {
  const { rows } = await pool.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
  return rows[0] && toOrder(rows[0]);
}

export async function listOrders(pool: Pool, page: Page): Promise<Order[]> {
  const { rows } = await pool.query<OrderRow>(`SELECT ${COLUMNS} FROM orders ORDER BY id DESC LIMIT $1 OFFSET $2`, [page.limit, page.offset]);
  return rows.map(toOrder);
}

export async function countOrders(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  return rows[0]!.n;
}

/**
 * Insert an order, at most once per idempotency key. The order and its key commit together;
 * a concurrent request with the same key blocks on the key's unique index until the first
 * commits, then finds its ON CONFLICT insert empty, rolls its own order back and replays.
 */
export async function createOrder(pool: Pool, order: NewOrder, key?: string): Promise<CreateResult> {
  // Without a key there is nothing to commit together: one autocommit round trip.
  if (key === undefined) return { kind: 'created', orderId: await insertOrder(pool, order) };
  const earlier = await findByKey(pool, key, order);
  if (earlier) return earlier;
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const orderId = await insertOrder(client, order);
    if (!(await claimKey(client, key, orderId))) {
      await client.query('ROLLBACK');
      // Same connection: asking the pool for a second one while holding this could starve it.
      return (await findByKey(client, key, order))!;
    }
    await client.query('COMMIT');
    return { kind: 'created', orderId };
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    // A connection that failed mid-transaction is discarded rather than reused.
    client.release(failure);
  }
}

async function claimKey(client: PoolClient, key: string, orderId: number): Promise<boolean> {
  const claimed = await client.query('INSERT INTO order_idempotency_keys (key, order_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, orderId]);
  return claimed.rowCount === 1;
}

async function insertOrder(db: Pool | PoolClient, o: NewOrder): Promise<number> {
  const { rows } = await db.query<{ id: number }>({
    // Named: each connection parses and plans the hot statement once, not per order.
    name: 'insert-order',
    text: 'INSERT INTO orders (customer_id, product_id, quantity, total_price) VALUES ($1, $2, $3, $4) RETURNING id',
    // toFixed keeps the exact two-decimal value instead of a binary float's expansion.
    values: [o.customer_id, o.product_id, o.quantity, o.total_price.toFixed(2)],
  });
  return rows[0]!.id;
}

/** The order a key already names: a replay if the payload matches, a conflict if it does not. */
async function findByKey(db: Pool | PoolClient, key: string, order: NewOrder): Promise<CreateResult | undefined> {
  const { rows } = await db.query<OrderRow>(
    `SELECT o.id, o.customer_id, o.product_id, o.quantity, o.total_price, o.created_at
       FROM order_idempotency_keys k JOIN orders o ON o.id = k.order_id WHERE k.key = $1`,
    [key],
  );
  const row = rows[0];
  if (!row) return undefined;
  const same = row.customer_id === order.customer_id && row.product_id === order.product_id && row.quantity === order.quantity && Number(row.total_price) === order.total_price;
  return { kind: same ? 'replayed' : 'conflict', orderId: row.id };
}

/** PostgreSQL cancelled the statement: it ran past statement_timeout (SQLSTATE 57014, query_canceled). */
export function isStatementTimeout(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === '57014';
}

/** Errors that mean "the database is not there right now" rather than a bug in our SQL. */
export function isDbUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE classes 08 (connection), 53 (resources), 57P (shutdown); or a socket error.
    if (/^(08|53|57P)/.test(code) || /^E[A-Z]+$/.test(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(err.message);
}
