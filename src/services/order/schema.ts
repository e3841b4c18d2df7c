import type { Pool } from 'pg';

/** The seed's table, verbatim, plus the idempotency ledger (one row per key, pointing at its order). */
export const ORDER_TABLES = ['orders', 'order_idempotency_keys'] as const;
export const DDL = `
CREATE TABLE IF NOT EXISTS orders (
  id SERIAL PRIMARY KEY,
  customer_id VARCHAR(100),
  product_id VARCHAR(100),
  quantity INTEGER,
  total_price DECIMAL(10, 2),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS order_idempotency_keys (
  key VARCHAR(255) PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);`;

// Two instances starting together would race on CREATE TABLE IF NOT EXISTS (a known
// catalog unique violation), so schema creation is serialised with an advisory lock.
const SCHEMA_LOCK = 0x0de12;

/**
 * Create the tables unless they exist. On ecomnet's platform they do (created for the order
 * service's role, which may not create tables), and CREATE TABLE IF NOT EXISTS would still need
 * that right; a database of one's own (tests, a learner's) gets them here.
 */
export async function ensureSchema(pool: Pool): Promise<void> {
  const present = await pool.query<{ n: number }>('SELECT count(to_regclass(t))::int AS n FROM unnest($1::text[]) AS t', [ORDER_TABLES]);
  if (present.rows[0]?.n === ORDER_TABLES.length) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(DDL);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
