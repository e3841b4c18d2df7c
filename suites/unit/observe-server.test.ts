/**
 * The server of `ecomnet observe`'s page, against a synthetic observer: what it answers and to
 * whom, and that its event stream delivers every sample and ends when it should. No platform.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OBSERVE_HOST, type ObserverServer, serveObserver } from '../../src/observe/server.ts';
import type { Snapshot } from '../../src/observe/types.ts';
import { BURST, SyntheticObserver } from '../support/observe-synthetic.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The server's token, as the URL it prints carries it. */
const tokenOf = (server: ObserverServer): string => new URL(server.url).searchParams.get('token') ?? '';
/** `path` with the server's token added to its query. */
const authed = (server: ObserverServer, path: string): string => `${path}${path.includes('?') ? '&' : '?'}token=${tokenOf(server)}`;

/** One request on a connection of its own, with exactly the method and Host header given (none for `host: null`), with the token unless `server` is left out. */
function call(port: number, path: string, o: { method?: string; host?: string | null; server?: ObserverServer | null; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const host = o.host === undefined ? `${OBSERVE_HOST}:${port}` : o.host;
    const server = o.server === undefined ? current : o.server;
    const target = server ? authed(server, path) : path;
    const req = request({ host: OBSERVE_HOST, port, path: target, method: o.method ?? 'GET', agent: false, setHost: false, headers: { ...(host === null ? {} : { host }), ...o.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An open event stream: the events parsed as they come, and the response to watch for its end. */
function events(
  port: number,
  server: ObserverServer | undefined = current,
): Promise<{ res: IncomingMessage; samples: Snapshot[]; comments: string[]; next(n: number, ms?: number): Promise<Snapshot>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: OBSERVE_HOST, port, path: server ? authed(server, '/events') : '/events', agent: false, headers: { host: `localhost:${port}`, accept: 'text/event-stream' } },
      (res) => {
        const samples: Snapshot[] = [];
        const comments: string[] = [];
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buffer += c;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            for (const line of block.split('\n')) {
              if (line.startsWith('data: ')) samples.push(JSON.parse(line.slice(6)));
              else if (line.startsWith(':')) comments.push(line);
            }
            end = buffer.indexOf('\n\n');
          }
        });
        const next = async (n: number, ms = 2000) => {
          const t0 = Date.now();
          while (samples.length < n) {
            if (Date.now() - t0 > ms) throw new Error(`no event ${n} within ${ms} ms (got ${samples.length})`);
            await new Promise((r) => setTimeout(r, 10));
          }
          return samples[n - 1]!;
        };
        resolve({ res, samples, comments, next, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The server under test, whose token requests carry by default. */
let current: ObserverServer | undefined;

const until = async (ok: () => boolean, ms = 2000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
};

describe('serveObserver: the page server of ecomnet observe', () => {
  let server: ObserverServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = current = undefined;
  });

  it('listens on 127.0.0.1 only: another loopback address of this host is refused', async () => {
    server = current = await serveObserver(new SyntheticObserver());
    expect(server.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[\\w-]{43}$`));
    // Bound to every address (0.0.0.0), 127.0.0.2 would answer as 127.0.0.1 does; bound to 127.0.0.1 alone it is refused.
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.2', port: server!.port });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('answers only requests addressed to 127.0.0.1:PORT or localhost:PORT (DNS rebinding gets 403 JSON)', async () => {
    const o = new SyntheticObserver();
    o.next();
    server = current = await serveObserver(o);
    const { port } = server;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await call(port, '/snapshot.json', { host })).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'localhost', `localhost:${port + 1}`, `127.0.0.1.evil.example:${port}`, `10.0.0.1:${port}`, null]) {
      const r = await call(port, '/', { host });
      expect(r.status, String(host)).toBe(403);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(r.body).error).toMatch(/answers only to 127\.0\.0\.1/);
    }
  });

  it('is read-only: 405 JSON for anything but GET and HEAD; 404 JSON for unknown paths; never a 500', async () => {
    server = current = await serveObserver(new SyntheticObserver());
    const { port } = server;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await call(port, '/snapshot.json', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(r.body).error).toContain(method);
    }
    for (const path of ['/nope', '/../package.json', '/page/../../server.ts', '/vendor/uPlot.cjs.js', '/%2e%2e/%2e%2e/package.json']) {
      const r = await call(port, path);
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body).error).toMatch(/^nothing at /);
    }
    // A request target no URL parser accepts: 400 JSON, never the 503 that blames the observer.
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect({ host: OBSERVE_HOST, port }, () => sock.end(`GET http://[::1 HTTP/1.1\r\nHost: ${OBSERVE_HOST}:${port}\r\nConnection: close\r\n\r\n`));
      let text = '';
      sock.setEncoding('utf8');
      sock.on('data', (c: string) => (text += c));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error).toBeTruthy();
    // Before the first sample there is nothing to show yet: said in JSON, to be asked again.
    const early = await call(port, '/snapshot.json');
    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect(JSON.parse(early.body).error).toMatch(/no sample yet/);
  });

  it('serves the page, its script, its style and uPlot from node_modules, with a strict CSP and nosniff on every answer', async () => {
    const o = new SyntheticObserver();
    o.next();
    o.next({ flows: BURST });
    server = current = await serveObserver(o);
    const { port } = server;
    const page = await call(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>ecomnet observe</title>');
    // Only files of its own: no inline script, nothing from another origin.
    expect(page.body).not.toMatch(/<script>|<script [^>]*src="(?!\/)|href="(?!\/)/);
    for (const [path, type, text] of [
      ['/page.js', 'text/javascript; charset=utf-8', 'new EventSource'],
      ['/page.css', 'text/css; charset=utf-8', '--bad'],
      ['/favicon.svg', 'image/svg+xml', '<svg'],
      ['/vendor/uPlot.iife.min.js', 'text/javascript; charset=utf-8', 'uPlot'],
      ['/vendor/uPlot.min.css', 'text/css; charset=utf-8', '.uplot'],
    ] as const) {
      const r = await call(port, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toBe(type);
      expect(r.body, path).toContain(text);
    }
    const head = await call(port, '/page.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
    for (const path of ['/', '/snapshot.json', '/nope']) {
      for (const host of [`localhost:${port}`, `evil.example:${port}`]) {
        const r = await call(port, path, { host });
        expect(r.headers['content-security-policy'], `${path} ${host}`).toMatch(/^default-src 'self'(;|$)/);
        expect(r.headers['x-content-type-options']).toBe('nosniff');
      }
    }
    const latest = JSON.parse((await call(port, '/snapshot.json')).body) as Snapshot;
    expect(latest.seq).toBe(2);
    expect(latest.pairs.find((p) => p.from === 'nginx-lb' && p.to === 'api-gateway')?.rate.bytes).toBe(52_000);
    const history = JSON.parse((await call(port, '/history.json')).body) as Snapshot[];
    expect(history.map((s) => s.seq)).toEqual([1, 2]);
  });

  it('streams the latest sample at once, then each new one within 2 s; a client that leaves is unsubscribed', async () => {
    const o = new SyntheticObserver();
    o.next();
    o.next({ down: ['product-service'] });
    server = current = await serveObserver(o);
    const stream = await events(server.port);
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const first = await stream.next(1);
    expect(first.seq).toBe(2);
    expect(first.health.find((h) => h.name === 'product-service')?.healthy).toBe(false);
    expect(o.subscribers).toBe(1);

    const t0 = Date.now();
    o.next();
    const second = await stream.next(2);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(second.seq).toBe(3);
    expect(second.health.every((h) => h.healthy)).toBe(true);

    stream.close();
    expect(await until(() => o.subscribers === 0), 'the server unsubscribes when the client goes').toBe(true);
  });

  it('sends a comment heartbeat on an idle stream', async () => {
    const o = new SyntheticObserver();
    server = current = await serveObserver(o, { heartbeatMs: 50 });
    const stream = await events(server.port);
    expect(await until(() => stream.comments.length >= 2)).toBe(true);
    expect(stream.comments[0]).toBe(': keep-alive');
    expect(stream.samples).toEqual([]);
    stream.close();
  });

  it('close() ends the open event streams and stops listening', async () => {
    const o = new SyntheticObserver();
    o.next();
    const s = (current = await serveObserver(o));
    const streams = [await events(s.port), await events(s.port)];
    await Promise.all(streams.map((x) => x.next(1)));
    // One subscription for every stream: each sample is turned into an event once.
    expect(o.subscribers).toBe(1);
    const ended = streams.map((x) => new Promise<void>((resolve) => x.res.on('close', () => resolve())));
    await s.close();
    await Promise.all(ended);
    expect(o.subscribers).toBe(0);
    await expect(call(s.port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('an observer that fails to answer gets a 503 JSON naming why, and the server goes on serving', async () => {
    const o = new SyntheticObserver();
    o.next();
    const broken = Object.assign(Object.create(o) as SyntheticObserver, {
      history: () => {
        throw new Error('the reader is gone');
      },
    });
    server = current = await serveObserver(broken);
    const r = await call(server.port, '/history.json');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ error: 'the observer could not answer: the reader is gone' });
    expect((await call(server.port, '/snapshot.json?fresh=1')).status).toBe(200);
    expect((await call(server.port, '/index.html')).body).toContain('<title>ecomnet observe</title>');
  });

  it('answers the page and its data only with the token of the URL it printed: 401 JSON without it or with another', async () => {
    const o = new SyntheticObserver();
    o.next();
    server = current = await serveObserver(o);
    const { port } = server;
    const token = tokenOf(server);
    // 32 random bytes, base64url: a new one for each server.
    expect(token).toMatch(/^[\w-]{43}$/);
    const other = await serveObserver(o);
    expect(tokenOf(other)).not.toBe(token);
    for (const path of ['/', '/index.html', '/snapshot.json', '/history.json', '/events']) {
      for (const [why, target] of [
        ['no token', path],
        ["another server's token", `${path}?token=${tokenOf(other)}`],
        ['an empty token', `${path}?token=`],
        ['the token cut short', `${path}?token=${token.slice(0, -1)}`],
      ] as const) {
        const r = await call(port, target, { server: null });
        expect(r.status, `${path}: ${why}`).toBe(401);
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(r.body).error).toMatch(/token/);
        expect(r.body).not.toContain(token);
      }
    }
    await other.close();
    // The URL printed opens the page; a script may send the token as a bearer instead.
    expect((await call(port, '/')).status).toBe(200);
    expect((await call(port, '/snapshot.json', { server: null, headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // The page's own files carry nothing of the host's: they load without it.
    for (const path of ['/page.js', '/units.js', '/page.css', '/favicon.svg', '/vendor/uPlot.iife.min.js']) expect((await call(port, path, { server: null })).status, path).toBe(200);
    // The page passes the token on to its requests.
    const script = (await call(port, '/page.js')).body;
    expect(script).toMatch(/\.get\('token'\)/);
  });

  it('at most maxStreams event streams at once: one more gets 503 JSON, and a place freed is taken again', async () => {
    const o = new SyntheticObserver();
    o.next();
    server = current = await serveObserver(o, { maxStreams: 3 });
    const open = [await events(server.port), await events(server.port), await events(server.port)];
    await Promise.all(open.map((x) => x.next(1)));
    const extra = await events(server.port);
    expect(extra.res.statusCode).toBe(503);
    extra.close();
    const refused = await call(server.port, '/events');
    expect(refused.headers['retry-after']).toBeTruthy();
    expect(JSON.parse(refused.body).error).toMatch(/3 event streams/);
    open[0]!.close();
    // Freed once the server sees the client go: asked until then.
    let again = await events(server.port);
    const t0 = Date.now();
    while (again.res.statusCode !== 200 && Date.now() - t0 < 2000) {
      again.close();
      again = await events(server.port);
    }
    expect(again.res.statusCode).toBe(200);
    expect((await again.next(1)).seq).toBe(1);
    for (const x of [...open, again]) x.close();
  });

  it('turns each sample into JSON once, however many streams are open', async () => {
    const o = new SyntheticObserver();
    o.next();
    server = current = await serveObserver(o);
    const streams = [];
    for (let i = 0; i < 5; i++) streams.push(await events(server.port));
    await Promise.all(streams.map((x) => x.next(1)));
    const before = o.serialized;
    o.next({ flows: BURST });
    await Promise.all(streams.map((x) => x.next(2)));
    expect(streams.map((x) => x.samples[1]!.seq)).toEqual([2, 2, 2, 2, 2]);
    expect(o.serialized - before).toBe(1);
    for (const x of streams) x.close();
  });

  it('a port it is given: used when free, an error naming it when taken', async () => {
    server = current = await serveObserver(new SyntheticObserver());
    await expect(serveObserver(new SyntheticObserver(), { port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const second = await serveObserver(new SyntheticObserver(), { port: 0 });
    expect(second.port).not.toBe(server.port);
    await second.close();
  });
});
