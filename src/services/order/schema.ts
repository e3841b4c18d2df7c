import type { Pool } from 'pg';

/** The seed's table, verbatim, plus the idempotency ledger (one row per key, pointing at its order). */
const DDL = `
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

export async function ensureSchema(pool: Pool): Promise<void> {
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
