import { createOrderPool } from '../../src/services/order/app.ts';
import pg from 'pg';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { LocalServer } from '../../src/data/local.ts';
import { generatePassword } from '../../src/data/password.ts';
import { postgresClient, postgresUrl, provisionOrderRoles, READER_ROLE, startLocalPostgres } from '../../src/data/postgres.ts';
import { PostgresProbe } from '../../src/net/readiness.ts';
import { loopbackServer } from '../support/loopback-server.ts';

/**
 * The run's PostgreSQL secrets on a real cluster: provisioning a fresh one logs no error, a
 * provisioning that fails writes no password to the server's log, the cluster stores and asks
 * for SCRAM only, and our clients give a password to nothing else: a server asking for it in
 * clear text or as md5 (a stranger listening where the real one was) gets none.
 */

let db: LocalServer | undefined;
afterEach(async () => {
  await db?.stop();
  db = undefined;
});

const admin = () => ({ host: db!.host, port: db!.port, password: db!.password });
const passwords = () => ({ orders: generatePassword(), reader: generatePassword() });

async function asAdmin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: postgresUrl(admin()) });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

describe('provisioning the order roles', () => {
  it('on a fresh cluster, logs no ERROR', async () => {
    db = await startLocalPostgres();
    await provisionOrderRoles(admin(), passwords());
    expect(db.output()).not.toMatch(/\bERROR:/);
  });

  it('that fails writes neither password into the server log nor into its error', async () => {
    db = await startLocalPostgres();
    // A type named like the table makes its CREATE TABLE fail inside provisioning's transaction.
    await asAdmin((c) => c.query('CREATE TYPE orders AS (x int)'));
    const pw = passwords();
    const failed = await provisionOrderRoles(admin(), pw).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failed).toMatch(/orders/);
    // The failure did reach the log: what is asserted below is about the statement it names.
    expect(db.output()).toMatch(/\bERROR:/);
    for (const secret of Object.values(pw)) {
      expect(db.output()).not.toContain(secret);
      expect(failed).not.toContain(secret);
    }
  });

  it('stores SCRAM verifiers and admits logins by scram-sha-256 only', async () => {
    db = await startLocalPostgres();
    const pw = passwords();
    await provisionOrderRoles(admin(), pw);
    const seen = await asAdmin(async (c) => ({
      encryption: (await c.query<{ password_encryption: string }>('SHOW password_encryption')).rows[0]?.password_encryption,
      methods: (await c.query<{ m: string }>('SELECT DISTINCT auth_method AS m FROM pg_hba_file_rules')).rows.map((r) => r.m),
      stored: (await c.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolpassword IS NOT NULL')).rows.map((r) => r.p),
    }));
    expect(seen.encryption).toBe('scram-sha-256');
    expect(seen.methods).toEqual(['scram-sha-256']);
    expect(seen.stored).toHaveLength(3);
    for (const p of seen.stored) expect(p).toMatch(/^SCRAM-SHA-256\$4096:/);
    // The verifiers sent in place of the passwords log in with the passwords.
    const reader = postgresClient({ connectionString: postgresUrl({ ...admin(), user: READER_ROLE, password: pw.reader }) });
    await reader.connect();
    try {
      expect((await reader.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 0 });
    } finally {
      await reader.end();
    }
  });
});

/** A stranger's PostgreSQL: answers the startup message with an authentication request of `code` (3 clear text, 5 md5) and records every byte. */
async function fakePostgres(code: 3 | 5): Promise<{ port: number; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const port = await loopbackServer((s) => {
    s.once('data', () => {
      const ask = Buffer.alloc(code === 5 ? 13 : 9);
      ask.write('R', 0);
      ask.writeInt32BE(ask.length - 1, 1);
      ask.writeInt32BE(code, 5);
      s.write(ask);
      // Whatever comes next is kept, and the connection closed: a client waiting for more fails instead.
      s.on('data', (d) => {
        chunks.push(d);
        s.destroy();
      });
    });
  });
  return { port, received: () => Buffer.concat(chunks) };
}

/** The types of the messages a client sent after its startup message (each a type byte and an int32 length). */
function messageTypes(b: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 5 <= b.length; at += 1 + b.readInt32BE(at + 1)) types.push(String.fromCharCode(b[at]!));
  return types;
}

describe('a server that asks for the password in clear text or as md5 gets none', () => {
  for (const [code, method] of [
    [3, 'clear text'],
    [5, 'md5'],
  ] as const) {
    it(`${method}: our client refuses it, and so does the observer's probe`, async () => {
      const fake = await fakePostgres(code);
      const secret = generatePassword();
      const client = postgresClient({ host: '127.0.0.1', port: fake.port, user: READER_ROLE, password: secret, database: 'orders' });
      client.on('error', () => {});
      await expect(client.connect()).rejects.toThrow(/SCRAM/);
      await client.end().catch(() => {});
      const probe = new PostgresProbe({ host: '127.0.0.1', port: fake.port, user: READER_ROLE, password: secret, database: 'orders' });
      onTestFinished(() => probe.close());
      expect((await probe.probe()).healthy).toBe(false);
      // A PasswordMessage ('p') carries the password itself, or "md5" and a hash of it.
      expect(messageTypes(fake.received())).not.toContain('p');
      expect(fake.received().toString('latin1')).not.toContain(secret);
    });

    it(`${method}: the order service's pool refuses it`, async () => {
      const fake = await fakePostgres(code);
      const secret = generatePassword();
      const pool = createOrderPool({ host: '127.0.0.1', port: fake.port, user: 'order_service', password: secret, database: 'orders' }, 1);
      onTestFinished(() => pool.end());
      await expect(pool.query('SELECT 1')).rejects.toThrow(/SCRAM/);
      expect(messageTypes(fake.received())).not.toContain('p');
      expect(fake.received().toString('latin1')).not.toContain(secret);
    });
  }
});
