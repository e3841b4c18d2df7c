import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { createOrder, isDbUnavailable } from '../../src/services/order/store.ts';

/**
 * Issue 12's fault suite found it (PostgreSQL killed during POST load): a connection that dies
 * while an idempotent order holds it, between two of its queries, emitted an 'error' nobody
 * heard and crashed the order service. The fake connection here dies exactly there.
 */
class DyingClient extends EventEmitter {
  released: unknown = 'not released';
  dead = false;
  async query(text: string | { text: string }): Promise<{ rows: { id: number }[]; rowCount: number }> {
    const sql = typeof text === 'string' ? text : text.text;
    if (this.dead) throw new Error('Client has encountered a connection error and is not queryable');
    if (sql.startsWith('INSERT INTO orders')) {
      // The database goes away after answering: the socket's error arrives with no query running.
      setImmediate(() => {
        this.dead = true;
        this.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      });
      await new Promise((r) => setTimeout(r, 5));
      return { rows: [{ id: 7 }], rowCount: 1 };
    }
    return { rows: [], rowCount: 0 };
  }
  release(err?: unknown) {
    this.released = err;
  }
}

describe('createOrder when the database dies under it', () => {
  it('fails the order as "database unavailable" (a 503), discards the connection, and the process lives', async () => {
    const client = new DyingClient();
    const pool = { query: async () => ({ rows: [] }), connect: async () => client } as unknown as Pool;
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const err = await createOrder(pool, { customer_id: 'c', product_id: 'p', quantity: 1, total_price: 1 }, 'key-1').catch((e: unknown) => e);
      expect(isDbUnavailable(err), String(err)).toBe(true);
      expect(client.released).toBeInstanceOf(Error);
      expect(client.listenerCount('error'), 'our listener goes with the connection').toBe(0);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});
