/**
 * PostgreSQL's readiness (src/net/readiness.ts) against a real cluster: `SELECT 1` after a
 * SCRAM-only login. Start waits with it, `status` probes once, `observe` keeps one session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOf } from '../../src/topology/default.ts';
import { ORDERS_DATABASE, postgresClient, postgresUrl, startLocalPostgres } from '../../src/data/postgres.ts';
import type { LocalServer } from '../../src/data/local.ts';
import { readinessOf } from '../../src/net/readiness.ts';
import { check, waitFor } from '../../src/util/wait.ts';

let db: LocalServer;
beforeAll(async () => {
  // Its own start waited with the same readiness (startLocalPostgres).
  db = await startLocalPostgres();
}, 60_000);
afterAll(() => db?.stop());

const readiness = (password: string) => readinessOf(nodeOf('postgres'), { at: { host: db.host, port: db.port }, login: { user: 'postgres', password, database: ORDERS_DATABASE } })!;

/** Sessions of the readiness probes the server has now. */
async function probeSessions(): Promise<number> {
  const c = postgresClient({ connectionString: postgresUrl(db) });
  await c.connect();
  try {
    return (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ecomnet readiness'")).rows[0]!.n;
  } finally {
    await c.end();
  }
}

describe('PostgreSQL readiness against a real cluster', () => {
  it('the right password is ready: start waits, status probes, observe keeps one session for many probes', async () => {
    const r = readiness(db.password);
    await r.waitUntilReady(5000);
    expect(await r.probe()).toMatchObject({ healthy: true, detail: 'SELECT 1' });
    // A single probe closes its session (the server lets it go a moment after the client).
    await waitFor(async () => check((await probeSessions()) === 0, "the single probe's session still open"), { what: 'the session closed', timeoutMs: 5000 });
    const kept = r.kept();
    try {
      for (let i = 0; i < 3; i++) expect((await kept.probe()).healthy).toBe(true);
      expect(await probeSessions()).toBe(1);
    } finally {
      kept.close();
    }
  });

  it("a wrong password is not ready, with PostgreSQL's own refusal (28P01)", async () => {
    const r = readiness('wrong');
    expect(await r.probe()).toEqual({ healthy: false, detail: '28P01' });
    await expect(r.waitUntilReady(100)).rejects.toThrow(/postgres at 127\.0\.0\.1:\d+ not ready after 100 ms: 28P01/);
  });

  it('the server down is not ready; up again, ready', async () => {
    const r = readiness(db.password);
    await db.down();
    expect((await r.probe()).healthy).toBe(false);
    await db.up();
    await r.waitUntilReady(10_000);
  });
});
