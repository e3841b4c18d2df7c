import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createOrderPool } from '../../src/services/order/app.ts';
import { createOrder, isDbUnavailable } from '../../src/services/order/store.ts';

/**
 * Issue 12's fault suite found it (PostgreSQL killed during POST load): a connection that dies
 * while an idempotent order holds it, between two of its queries, emitted an 'error' nobody
 * heard and crashed the order service. The pool here is the service's own (createOrderPool),
 * over a fake connection that dies exactly there.
 */
class DyingClient extends EventEmitter {
  _queryable = true;
  _ending = false;
  connect(cb: (err?: Error) => void) {
    setImmediate(() => cb());
  }
  end(cb?: () => void) {
    this._ending = true;
    if (cb) setImmediate(cb);
  }
  query(q: string | { text: string }, values?: unknown, cb?: (err: Error | null, res?: unknown) => void): Promise<unknown> | undefined {
    const callback = typeof values === 'function' ? (values as typeof cb) : cb;
    const answer = this.#answer(typeof q === 'string' ? q : q.text);
    if (!callback) return answer;
    answer.then(
      (r) => callback(null, r),
      (e: Error) => callback(e),
    );
    return undefined;
  }
  async #answer(sql: string): Promise<{ rows: { id: number }[]; rowCount: number }> {
    if (!this._queryable) throw new Error('Client has encountered a connection error and is not queryable');
    if (sql.startsWith('INSERT INTO orders')) {
      // PostgreSQL dies after answering: its FATAL and the reset arrive with no query running.
      setImmediate(() => {
        this._queryable = false;
        this.emit('error', Object.assign(new Error('terminating connection due to unexpected postmaster exit'), { code: '57P01' }));
      });
      await new Promise((r) => setTimeout(r, 5));
      return { rows: [{ id: 7 }], rowCount: 1 };
    }
    return { rows: [], rowCount: 0 };
  }
}

describe('an order whose database connection dies under it', () => {
  it('fails as "database unavailable" (a 503), and the process lives', async () => {
    const pool = createOrderPool({ Client: DyingClient } as unknown as pg.PoolConfig);
    pool.on('error', () => {});
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const err = await createOrder(pool, { customer_id: 'c', product_id: 'p', quantity: 1, total_price: 1 }, 'key-1').catch((e: unknown) => e);
      expect(isDbUnavailable(err), String(err)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
    expect(uncaught).toEqual([]);
  });
});
