import { type AddressInfo, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RedisProbe } from '../../src/net/readiness.ts';
import { HealthBook } from '../../src/observe/health.ts';

describe('health records', () => {
  it('keep the time of the last change across samples', () => {
    const book = new HealthBook();
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, latencyMs: 1.23, detail: '200' }, 't1')).toMatchObject({ healthy: true, since: 't1', latencyMs: 1.2 });
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, detail: '200' }, 't2').since).toBe('t1');
    expect(book.record('api-gateway', 'http', 'a', { healthy: false, detail: 'ECONNREFUSED' }, 't3')).toMatchObject({ healthy: false, since: 't3', detail: 'ECONNREFUSED' });
  });
});

/** A Redis stand-in on loopback speaking enough RESP for AUTH and PING; counts connections and commands. */
async function fakeRedis(password: string) {
  const seen = { connections: 0, commands: [] as string[] };
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    seen.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let authed = false;
    let buffered = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      // Each command here is an array of bulk strings; answer once a whole one is in.
      for (let m = /^\*(\d+)\r\n((?:\$\d+\r\n[^\r]*\r\n)*)/.exec(buffered); m; m = /^\*(\d+)\r\n((?:\$\d+\r\n[^\r]*\r\n)*)/.exec(buffered)) {
        const words = m[2]!.split('\r\n').filter((_, i) => i % 2 === 1);
        if (words.length < Number(m[1])) break;
        buffered = buffered.slice(m[0].length);
        seen.commands.push(words[0]!);
        if (words[0] === 'AUTH') {
          authed = words[2] === password;
          s.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair\r\n');
        } else s.write(authed ? '+PONG\r\n' : '-NOAUTH Authentication required.\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    login: (pw: string) => ({ host: '127.0.0.1', port, user: 'default', password: pw }),
    dropClients: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the Redis probe', () => {
  it('keeps one connection: AUTH once, then a PING per probe', async () => {
    const redis = await fakeRedis('s3cret');
    const probe = new RedisProbe();
    try {
      for (let i = 0; i < 3; i++) expect(await probe.probe(redis.login('s3cret'))).toMatchObject({ healthy: true, detail: 'PONG' });
      expect(redis.seen.connections).toBe(1);
      expect(redis.seen.commands).toEqual(['AUTH', 'PING', 'PING', 'PING']);
    } finally {
      probe.close();
      await redis.close();
    }
  });

  it("fails with Redis's own words on a wrong password, and opens a new connection once the server has dropped it", async () => {
    const redis = await fakeRedis('s3cret');
    const probe = new RedisProbe();
    try {
      expect(await probe.probe(redis.login('wrong'))).toEqual({ healthy: false, detail: 'WRONGPASS invalid username-password pair' });
      expect(await probe.probe(redis.login('s3cret'))).toMatchObject({ healthy: true });
      redis.dropClients();
      await new Promise((r) => setTimeout(r, 50));
      expect(await probe.probe(redis.login('s3cret'))).toMatchObject({ healthy: true });
      // The wrong password's connection, the good one, and the one after the drop.
      expect(redis.seen.connections).toBe(3);
      expect(redis.seen.commands).toEqual(['AUTH', 'AUTH', 'PING', 'AUTH', 'PING']);
    } finally {
      probe.close();
      await redis.close();
    }
  });

  it('answers unhealthy, never hangs, when nothing listens', async () => {
    const redis = await fakeRedis('x');
    const login = redis.login('x');
    await redis.close();
    expect(await new RedisProbe().probe(login)).toEqual({ healthy: false, detail: 'ECONNREFUSED' });
  });
});
