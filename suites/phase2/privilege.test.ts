import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { ORDER_ROLE, READER_ROLE } from '../../src/data/postgres.ts';
import { priv, run } from '../../src/host/exec.ts';
import { readState } from '../../src/host/state.ts';
import { accountName, localAccount } from '../../src/host/accounts.ts';
import { readSecrets } from '../../src/runtime/secrets.ts';
import { pgLogin } from '../support/live.ts';
import { platformInfo, runDir } from '../support/platform.ts';

/**
 * Least privilege on ecomnet's own platform (not a seed deliverable): each internet-facing
 * process runs as a system account of its own, with no capability, no sudo, no shell, no home;
 * credentials are readable by the one account that needs them; the order service's database
 * login owns its tables and nothing else, and the operator's reads.
 */
const services = ['gateway', 'product', 'order'] as const;
const pidOf = (name: string) => readState(runDir)?.services.find((s) => s.name === name)?.pid;
const procFile = async (pid: number, file: string) => (await priv(['cat', `/proc/${pid}/${file}`])).stdout;

describe('least privilege: who runs what', () => {
  it.each(services)('%s runs as its own account, with no capability at all', async (c) => {
    const pid = pidOf(c)!;
    expect(pid).toBeGreaterThan(1);
    expect((await run(['ps', '-o', 'user=', '-p', String(pid)])).stdout.trim()).toBe(accountName(topology, c));
    const status = await procFile(pid, 'status');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) expect(status, set).toMatch(new RegExp(`^${set}:\\s+0{16}$`, 'm'));
  });

  it("nginx's workers run as nginx's own account (its master alone is root, to bind port 80)", async () => {
    const master = pidOf('nginx')!;
    expect((await run(['ps', '-o', 'user=', '-p', String(master)])).stdout.trim()).toBe('root');
    const workers = (await run(['ps', '-o', 'user=', '--ppid', String(master)])).stdout.trim().split('\n');
    expect(workers.length).toBeGreaterThan(0);
    expect(new Set(workers)).toEqual(new Set([accountName(topology, 'nginx')]));
  });

  it.each([...services, 'nginx'] as const)("%s's account is a system account: no shell, no home, no group but its own, no sudo", async (role) => {
    const name = accountName(topology, role);
    const a = localAccount(name)!;
    const [, , uid, , , home, shell] = (await run(['getent', 'passwd', name])).stdout.trim().split(':');
    expect(Number(uid)).toBeLessThan(1000);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(shell).toBe('/usr/sbin/nologin');
    expect(home).toBe('/nonexistent');
    expect((await run(['id', '-G', name])).stdout.trim()).toBe(String(a.gid));
    const sudo = await priv(['sudo', '-n', '-l', '-U', name], { allowFail: true });
    expect(sudo.stdout + sudo.stderr).toMatch(/is not allowed to run sudo/);
  });

  it('each config file holding credentials is 0600 and belongs to the one account that reads it', () => {
    const owners: [string, number][] = [
      ...services.map((c): [string, number] => [runDir.configFile(`${c}.json`), localAccount(accountName(topology, c))!.uid]),
      // Containers mode: Redis's configuration is the container's own.
      ...(platformInfo().data === 'native' ? [[runDir.configFile('redis.conf'), localAccount('redis')!.uid] as [string, number]] : []),
      [runDir.secrets, process.getuid!()],
    ];
    for (const [file, uid] of owners) {
      const st = statSync(file);
      expect({ file, uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ file, uid, mode: '600' });
    }
  });

  it.each(services)("%s's compile cache is its own this run's, or a kept one only root may write: no other account can plant code in it", async (c) => {
    const environ = (await procFile(pidOf(c)!, 'environ')).split('\0');
    const cache = environ.find((e) => e.startsWith('NODE_COMPILE_CACHE='))?.split('=')[1];
    expect(cache).toBeDefined();
    const own = localAccount(accountName(topology, c))!;
    const st = statSync(cache!);
    if (cache === runDir.cacheOf(c)) {
      // This run's: its account's alone, in a directory of root's that `down` removes (a run file).
      expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid: own.uid, mode: '700' });
      const parent = statSync(runDir.compileCache);
      expect({ uid: parent.uid, writableByOthers: (parent.mode & 0o022) !== 0 }).toEqual({ uid: 0, writableByOthers: false });
      expect(Date.parse(readState(runDir)!.startedAt)).toBeLessThanOrEqual(st.birthtimeMs);
      expect(runDir.runFiles).toContain(runDir.compileCache);
      return;
    }
    // A kept one (filled by an earlier run): root's, every entry and every directory above it
    // root's and written by no one else, so neither the service nor any other account changes it.
    const notRoots = await priv(['find', cache!, '(', '!', '-uid', '0', '-o', '-perm', '/022', ')', '-print'], {});
    expect(notRoots.stdout.trim(), 'entries not root-only-writable').toBe('');
    for (let d = cache!; d !== '/'; d = dirname(d)) {
      const up = statSync(d);
      expect({ d, uid: up.uid, writableByOthers: (up.mode & 0o022) !== 0 }).toEqual({ d, uid: 0, writableByOthers: false });
    }
    const writes = await priv(['setpriv', `--reuid=${own.uid}`, `--regid=${own.gid}`, '--clear-groups', 'test', '-w', cache!], { allowFail: true });
    expect(writes.exitCode, `${own.name} may write ${cache}`).not.toBe(0);
  });
});

describe("least privilege: the order service's and the operator's database roles", () => {
  const secrets = readSecrets(runDir);
  const as = (user: string, password: string) => new pg.Client({ host: pgLogin.host, port: pgLogin.port, database: 'orders', user, password, connectionTimeoutMillis: 5000 });
  async function withClient<T>(c: pg.Client, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }
  const denied = (c: pg.Client, sql: string) =>
    c.query(sql).then(
      () => 'allowed',
      (e: Error) => e.message,
    );

  it(`the order service logs in as ${ORDER_ROLE}, not the superuser`, async () => {
    const config = JSON.parse((await priv(['cat', runDir.configFile('order.json')])).stdout) as { pgUrl: string };
    expect(decodeURIComponent(new URL(config.pgUrl).username)).toBe(ORDER_ROLE);
  });

  it(`${ORDER_ROLE} owns the order tables and can do nothing else: no other table, no superuser, no new table`, async () => {
    await withClient(as(ORDER_ROLE, secrets!.orders), async (c) => {
      const role = await c.query('SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user');
      expect(role.rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      const owned = await c.query('SELECT tablename FROM pg_tables WHERE tableowner = current_user ORDER BY 1');
      expect(owned.rows.map((r) => r.tablename)).toEqual(['order_idempotency_keys', 'orders']);
      expect(await denied(c, 'CREATE TABLE stolen (x int)')).toMatch(/permission denied/);
      expect(await denied(c, 'CREATE TEMP TABLE stolen (x int)')).toMatch(/permission denied/);
      expect(await denied(c, 'SELECT * FROM pg_authid')).toMatch(/permission denied/);
      expect(await denied(c, 'SET ROLE postgres')).toMatch(/permission denied/);
    });
  });

  it(`the operator's ${READER_ROLE} reads orders (the seed's SELECT * FROM orders) and cannot write`, async () => {
    expect(pgLogin.user).toBe(READER_ROLE);
    await withClient(as(READER_ROLE, secrets!.reader), async (c) => {
      expect(await denied(c, 'SELECT * FROM orders')).toBe('allowed');
      expect(await denied(c, "INSERT INTO orders (customer_id) VALUES ('intruder')")).toMatch(/permission denied/);
      expect(await denied(c, 'DELETE FROM orders')).toMatch(/permission denied/);
      expect(await denied(c, 'SELECT * FROM order_idempotency_keys')).toMatch(/permission denied/);
    });
  });
});
