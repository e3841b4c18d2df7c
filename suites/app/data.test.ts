import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../src/topology/default.ts';
import { isRoot, run } from '../../src/host/exec.ts';
import type { LocalServer } from '../../src/data/local.ts';
import { generatePassword } from '../../src/data/password.ts';
import { pgHbaConf, postgresArgv, postgresUrl, startLocalPostgres } from '../../src/data/postgres.ts';
import { redisArgv, redisConf, startLocalRedis } from '../../src/data/redis.ts';
import { LOOPBACK } from './helpers.ts';

/** uid of a running process, from /proc. */
async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

async function uidOfUser(name: string): Promise<number> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  return Number(
    passwd
      .split('\n')
      .find((l) => l.startsWith(`${name}:`))!
      .split(':')[2],
  );
}

const expectedUid = async (daemonUser: string) => (isRoot ? uidOfUser(daemonUser) : process.getuid!());

describe('data helpers (pure)', () => {
  it('generatePassword gives distinct URL-safe secrets', () => {
    const a = generatePassword();
    const b = generatePassword();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('pg_hba admits only the listed clients, by scram-sha-256', () => {
    const conf = pgHbaConf([nodeOf('order').ip, topology.app.subnet]);
    const rules = conf.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rules).toEqual(['local all all scram-sha-256', `host all all ${nodeOf('order').ip}/32 scram-sha-256`, `host all all ${topology.app.subnet} scram-sha-256`]);
    expect(pgHbaConf([{ address: nodeOf('order').ip, user: 'order_service' }]).split('\n')).toContain(`host all order_service ${nodeOf('order').ip}/32 scram-sha-256`);
    expect(() => pgHbaConf([{ address: nodeOf('order').ip, user: 'all; host all all 0.0.0.0/0 trust' }])).toThrow();
    expect(() => pgHbaConf(['not-an-ip'])).toThrow();
    expect(() => pgHbaConf([`${nodeOf('order').ip}/33`])).toThrow();
  });

  it('postgresArgv listens on exactly one address, uses our pg_hba, and drops root', () => {
    const pgNode = nodeOf('postgres');
    const argv = postgresArgv({ dataDir: '/d', host: pgNode.ip, port: pgNode.port!, hbaFile: '/h' });
    expect(argv).toContain(`listen_addresses=${pgNode.ip}`);
    expect(argv).toContain(`port=${pgNode.port}`);
    expect(argv).toContain('hba_file=/h');
    expect(argv).toContain('unix_socket_directories=');
    expect(argv[0]).toBe(isRoot ? 'setpriv' : '/usr/lib/postgresql/15/bin/postgres');
    if (isRoot) expect(argv).toContain('--reuid=postgres');
    expect(postgresArgv({ dataDir: '/d', host: pgNode.ip, port: 1, hbaFile: '/h', runAs: undefined })[0]).toMatch(/postgres$/);
  });

  it('postgresUrl escapes credentials', () => {
    expect(postgresUrl({ host: LOOPBACK, port: 5, password: 'a/b@c' })).toBe(`postgres://postgres:a%2Fb%40c@${LOOPBACK}:5/orders`);
  });

  it('redis config: one bind address, protected, no persistence, password only in the file', () => {
    const redisNode = nodeOf('redis');
    const password = generatePassword();
    const conf = redisConf({ bind: redisNode.ip, port: redisNode.port!, password, dir: '/r' });
    for (const line of [`bind ${redisNode.ip}`, `port ${redisNode.port}`, 'protected-mode yes', 'save ""', 'appendonly no', `requirepass ${password}`]) {
      expect(conf.split('\n')).toContain(line);
    }
    const argv = redisArgv({ configFile: '/r/redis.conf' });
    expect(argv.join(' ')).not.toContain(password);
    expect(argv.at(-1)).toBe('/r/redis.conf');
    expect(() => redisConf({ bind: redisNode.ip, port: 1, password: 'a b\nslaveof x 1', dir: '/r' })).toThrow();
  });
});

describe('local PostgreSQL', () => {
  let db: LocalServer;
  beforeAll(async () => {
    db = await startLocalPostgres();
  }, 60_000);
  afterAll(() => db?.stop());

  it('runs as the postgres user when root, serves the orders database, and stores SCRAM secrets', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT current_database() AS db, current_setting('data_directory') AS dir,
                current_setting('listen_addresses') AS listen,
                (SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres') AS secret`,
      );
      expect(rows[0].db).toBe('orders');
      expect(rows[0].listen).toBe(LOOPBACK);
      expect(rows[0].secret).toMatch(/^SCRAM-SHA-256\$/);
      const pid = Number((await readFile(`${rows[0].dir}/postmaster.pid`, 'utf8')).split('\n')[0]);
      expect(await uidOf(pid)).toBe(await expectedUid('postgres'));
      expect((await stat(rows[0].dir)).uid).toBe(await expectedUid('postgres'));
      // No process for what the platform never uses: logical replication.
      const children = (await run(['ps', '--ppid', String(pid), '-o', 'args='])).stdout;
      expect(children).toMatch(/checkpointer/);
      expect(children).not.toMatch(/logical replication launcher/);
    } finally {
      await client.end();
    }
  });

  it('rejects a wrong password', async () => {
    const client = new pg.Client({ connectionString: postgresUrl({ host: db.host, port: db.port, password: 'wrong' }) });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });
});

describe('local Redis', () => {
  let redis: LocalServer;
  beforeAll(async () => {
    redis = await startLocalRedis();
  }, 30_000);
  afterAll(() => redis?.stop());

  it('requires the password, persists nothing, drops root, and keeps its config file private', async () => {
    // A raw socket, because ioredis's own ready check would hide the server's answer.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(redis.port, redis.host, () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        resolve(d.toString());
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
    const client = new Redis(redis.url);
    try {
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', LOOPBACK]);
      expect(await client.config('GET', 'protected-mode')).toEqual(['protected-mode', 'yes']);
      const info = await client.info('server');
      const pid = Number(/process_id:(\d+)/.exec(info)![1]);
      expect(await uidOf(pid)).toBe(await expectedUid('redis'));
      const configFile = /config_file:(\S+)/.exec(info)![1]!;
      expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    } finally {
      client.disconnect();
    }
  });

  it('comes back on the same port after down()/up()', async () => {
    await redis.down();
    await redis.up();
    const client = new Redis(redis.url);
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
