/**
 * Readiness values (src/net/readiness.ts) against real servers on loopback: an HTTP server
 * answering 200, 500 or never; a Redis stand-in speaking AUTH and PING; a listener speaking no
 * protocol at all. Start waits with `waitUntilReady`, `status` asks `probe()`, `observe` a kept
 * probe: for one value the three give one verdict.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nodeOf } from '../../src/topology/default.ts';
import { httpReadiness, type Readiness, readinessOf, redisReadiness } from '../../src/net/readiness.ts';
import { loopbackServer } from '../support/loopback-server.ts';

/** An HTTP server on loopback answering every request with `answer` (which may never answer); closed when the test ends. */
async function httpServer(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; requests: () => number; connections: () => number }> {
  let requests = 0;
  let connections = 0;
  const server: Server = createHttpServer((req, res) => {
    requests++;
    answer(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, requests: () => requests, connections: () => connections };
}

/** A TCP listener on loopback; `speak` is given each connection. Closed when the test ends. */
async function tcpServer(speak: (s: Socket) => void): Promise<{ port: number; received: () => string }> {
  let received = '';
  const port = await loopbackServer((s) => {
    s.setEncoding('latin1').on('data', (d: string) => (received += d));
    speak(s);
  });
  return { port, received: () => received };
}

/** A Redis stand-in: AUTH with `password` answers +OK, PING +PONG once authenticated (-NOAUTH before). */
function speaksRedis(password: string) {
  return (s: Socket) => {
    let authed = false;
    let buffered = '';
    s.on('data', (d: string) => {
      buffered += d;
      for (let m = /^\*(\d+)\r\n((?:\$\d+\r\n[^\r]*\r\n)*)/.exec(buffered); m; m = /^\*(\d+)\r\n((?:\$\d+\r\n[^\r]*\r\n)*)/.exec(buffered)) {
        const words = m[2]!.split('\r\n').filter((_, i) => i % 2 === 1);
        if (words.length < Number(m[1])) break;
        buffered = buffered.slice(m[0].length);
        if (words[0] === 'AUTH') {
          authed = words[2] === password;
          s.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair\r\n');
        } else s.write(authed ? '+PONG\r\n' : '-NOAUTH Authentication required.\r\n');
      }
    });
  };
}

/** The three askers' verdicts on one value: start (a short deadline), status (one probe), observe (a kept probe). */
async function verdicts(r: Readiness): Promise<{ start: boolean; status: boolean; observe: boolean }> {
  const kept = r.kept();
  try {
    return {
      start: await r.waitUntilReady(200).then(
        () => true,
        () => false,
      ),
      status: (await r.probe()).healthy,
      observe: (await kept.probe()).healthy,
    };
  } finally {
    kept.close();
  }
}

const at = (port: number) => ({ host: '127.0.0.1', port });

describe('HTTP readiness: GET path answered 200', () => {
  it('200 is ready to every asker; the path asked is the one the topology gives', async () => {
    const paths: string[] = [];
    const s = await httpServer((req, res) => {
      paths.push(req.url ?? '');
      res.end('ok');
    });
    const r = readinessOf(nodeOf('gateway'), { at: at(s.port) })!;
    expect(r.kind).toBe('http');
    expect(r.address).toBe(`127.0.0.1:${s.port}/health`);
    expect(await verdicts(r)).toEqual({ start: true, status: true, observe: true });
    expect(new Set(paths)).toEqual(new Set(['/health']));
    expect(readinessOf(nodeOf('internet'), { at: at(s.port) })!.address, "the simulated internet host's page").toBe(`127.0.0.1:${s.port}/`);
  });

  it('500 is not ready to any asker (start, status, observe agree)', async () => {
    const s = await httpServer((_req, res) => {
      res.statusCode = 500;
      res.end('broken');
    });
    const r = readinessOf(nodeOf('product'), { at: at(s.port) })!;
    expect(await verdicts(r)).toEqual({ start: false, status: false, observe: false });
    expect(await r.probe()).toMatchObject({ healthy: false, detail: '500' });
    await expect(r.waitUntilReady(100)).rejects.toThrow(/http at 127\.0\.0\.1:\d+\/health not ready after 100 ms: 500/);
  });

  it('a server that never answers is not ready once the probe times out', async () => {
    const s = await httpServer(() => {});
    const r = httpReadiness({ ...at(s.port), path: '/health' });
    expect(await r.probe()).toEqual({ healthy: false, detail: 'timeout' });
    expect(s.requests()).toBe(1);
  });

  it('a kept probe keeps its one connection between probes; a single probe closes its own', async () => {
    const s = await httpServer((_req, res) => res.end('ok'));
    const r = httpReadiness({ ...at(s.port), path: '/health' });
    const kept = r.kept();
    onTestFinished(() => kept.close());
    for (let i = 0; i < 3; i++) expect((await kept.probe()).healthy).toBe(true);
    expect(s.connections()).toBe(1);
    expect((await r.probe()).healthy).toBe(true);
    expect(s.connections()).toBe(2);
  });
});

describe('Redis readiness: PING answered +PONG, after AUTH when there is a password', () => {
  it('the right password is ready to every asker; a wrong one, or none, to none', async () => {
    const s = await tcpServer(speaksRedis('s3cret'));
    const login = (password?: string) => ({ user: 'default', ...(password === undefined ? {} : { password }) });
    expect(await verdicts(readinessOf(nodeOf('redis'), { at: at(s.port), login: login('s3cret') })!)).toEqual({ start: true, status: true, observe: true });
    expect(await verdicts(readinessOf(nodeOf('redis'), { at: at(s.port), login: login('wrong') })!)).toEqual({ start: false, status: false, observe: false });
    const none = readinessOf(nodeOf('redis'), { at: at(s.port), login: login() })!;
    expect(await none.probe()).toMatchObject({ healthy: false, detail: 'NOAUTH Authentication required.' });
  });

  it('an open port that speaks no Redis is not ready (it was "healthy" to status before, which only connected)', async () => {
    const s = await tcpServer((sock) => sock.on('data', () => sock.write('-ERR not redis\r\n')));
    expect(await verdicts(redisReadiness({ ...at(s.port), user: 'default' }))).toEqual({ start: false, status: false, observe: false });
  });

  it('the password goes only where trust allows: no AUTH to an untrusted listener', async () => {
    const s = await tcpServer(speaksRedis('s3cret'));
    const r = redisReadiness({ ...at(s.port), user: 'default', password: 's3cret' }, { trust: async () => false });
    expect(await r.probe()).toMatchObject({ healthy: false, detail: expect.stringContaining('password withheld') });
    expect(s.received()).not.toContain('s3cret');
    expect(s.received()).not.toContain('AUTH');
  });
});

describe('which readiness each component has', () => {
  it('HTTP for nginx, the three services and the internet host; Redis and PostgreSQL for the data servers; none for the client', () => {
    const kinds = Object.fromEntries((['nginx', 'gateway', 'product', 'order', 'internet', 'redis', 'postgres', 'client'] as const).map((c) => [c, readinessOf(nodeOf(c))?.kind ?? 'none']));
    expect(kinds).toEqual({ nginx: 'http', gateway: 'http', product: 'http', order: 'http', internet: 'http', redis: 'redis', postgres: 'postgres', client: 'none' });
    // By default at the node's own address, from the topology.
    const gw = nodeOf('gateway');
    expect(readinessOf(gw)!.address).toBe(`${gw.ip}:${gw.port}/health`);
  });
});
