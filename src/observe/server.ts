/**
 * The live page of `ecomnet observe`: a small HTTP server on 127.0.0.1 that serves the page,
 * its chart library (uPlot, from node_modules), the observer's latest sample and history as
 * JSON, and every new sample as Server-Sent Events. It reads the host through the observer
 * and changes nothing, so it stays on loopback and answers only requests addressed to it by
 * name (a page elsewhere that rebinds its own DNS name to 127.0.0.1 gets 403). What it shows is
 * root's to read (flows, client addresses), and any local user can reach 127.0.0.1: the page and
 * its data answer only with the random token of the URL it prints (401 otherwise); the page's own
 * files, which carry nothing of the host's, load without it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Observer, Snapshot } from './types.ts';

/** The only address it listens on: the page shows the host's traffic and health to the host alone. */
export const OBSERVE_HOST = '127.0.0.1';
/** A comment line this often keeps idle proxies and the browser from dropping the stream. */
const HEARTBEAT_MS = 15_000;
/** A client this far behind (a stopped tab, a stalled socket) is dropped rather than buffered. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Event streams open at once (a few tabs); one more is refused rather than served at the cost of memory. */
export const MAX_STREAMS = 8;
/** The paths that show the host: the page and its data, each only with the token. */
const GUARDED = new Set(['/', '/snapshot.json', '/history.json', '/events']);

export const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

interface Asset {
  type: string;
  body: Buffer;
}

const page = (name: string) => fileURLToPath(new URL(`./page/${name}`, import.meta.url));
const fromPackage = createRequire(import.meta.url).resolve;

/** Every file the page loads, read once at start: a missing one fails `serveObserver`, never a request. */
function loadAssets(): Map<string, Asset> {
  const files: [string, string, string][] = [
    ['/', page('index.html'), 'text/html; charset=utf-8'],
    ['/page.js', page('page.js'), 'text/javascript; charset=utf-8'],
    ['/units.js', page('units.js'), 'text/javascript; charset=utf-8'],
    ['/arcs.js', page('arcs.js'), 'text/javascript; charset=utf-8'],
    ['/page.css', page('page.css'), 'text/css; charset=utf-8'],
    ['/favicon.svg', page('favicon.svg'), 'image/svg+xml'],
    ['/vendor/uPlot.iife.min.js', fromPackage('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', fromPackage('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([route, file, type]) => [route, { type, body: readFileSync(file) }]));
}

export interface ObserverServer {
  /** http://127.0.0.1:PORT/?token=TOKEN: the page, with what opens it. */
  url: string;
  port: number;
  /** Where it listens: always 127.0.0.1. */
  address: AddressInfo;
  /** Stop listening, end every open event stream and connection. */
  close(): Promise<void>;
}

/** Serve the observer's page on 127.0.0.1 (port 0: the kernel picks a free one). */
export async function serveObserver(observer: Observer, o: { port?: number; heartbeatMs?: number; maxStreams?: number } = {}): Promise<ObserverServer> {
  const assets = loadAssets();
  const streams = new Set<ServerResponse>();
  const heartbeatMs = o.heartbeatMs ?? HEARTBEAT_MS;
  const maxStreams = o.maxStreams ?? MAX_STREAMS;
  const token = randomBytes(32).toString('base64url');
  let port = 0;

  /** The token, from the query (the page's links) or an Authorization: Bearer header (scripts). */
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const given = Buffer.from(url.searchParams.get('token') ?? bearer ?? '');
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  // The newest sample as JSON, made once for every stream and request.
  let cached: { snapshot: Snapshot; json: string } | undefined;
  const jsonOf = (s: Snapshot): string => {
    if (cached?.snapshot !== s) cached = { snapshot: s, json: JSON.stringify(s) };
    return cached.json;
  };
  /** One subscription while any stream is open: each sample written to all of them. */
  let unsubscribe: (() => void) | undefined;
  const push = (res: ServerResponse, s: Snapshot) => {
    if (res.writableLength > MAX_BACKLOG_BYTES) return res.destroy();
    res.write(`id: ${s.seq}\ndata: ${jsonOf(s)}\n\n`);
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean, extra: Record<string, string> = {}) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store', ...extra });
    res.end(head ? undefined : bytes);
  };
  const json = (res: ServerResponse, status: number, value: unknown, head: boolean, extra?: Record<string, string>) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head, extra);

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (streams.size >= maxStreams) {
      return json(res, 503, { error: `${maxStreams} event streams are open already: close a tab of this page, or try again later` }, false, { 'Retry-After': '5' });
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.socket?.setNoDelay(true);
    // A reconnecting EventSource waits this long: about one sample.
    res.write('retry: 1000\n\n');
    const latest = observer.latest();
    if (latest) push(res, latest);
    unsubscribe ??= observer.subscribe((s) => {
      for (const r of streams) push(r, s);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      streams.delete(res);
      if (streams.size === 0) {
        unsubscribe?.();
        unsubscribe = undefined;
      }
    };
    req.on('close', end);
    res.on('close', end);
    res.on('error', end);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `${OBSERVE_HOST}:${port}` && host !== `localhost:${port}`) {
      return json(res, 403, { error: `this page answers only to ${OBSERVE_HOST}:${port} or localhost:${port}, not to Host "${req.headers.host ?? ''}"` }, false);
    }
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return json(res, 405, { error: `${req.method} is not allowed: the page is read-only (GET, HEAD)` }, false, { Allow: 'GET, HEAD' });
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (!url) return json(res, 400, { error: 'a request target that is no URL path' }, head);
    const path = url.pathname === '/index.html' ? '/' : url.pathname;
    if (GUARDED.has(path) && !authorized(req, url)) {
      return json(res, 401, { error: 'this page needs its token: open the URL `ecomnet observe` printed (…/?token=…), or send it as Authorization: Bearer' }, head, {
        'WWW-Authenticate': 'Bearer realm="ecomnet observe"',
      });
    }
    const asset = assets.get(path);
    if (asset) return send(res, 200, asset.type, asset.body, head);
    if (path === '/snapshot.json') {
      const latest = observer.latest();
      return latest
        ? send(res, 200, 'application/json; charset=utf-8', jsonOf(latest), head)
        : json(res, 503, { error: 'no sample yet: the observer takes its first within a second' }, head, { 'Retry-After': '1' });
    }
    if (path === '/history.json') return json(res, 200, observer.history(), head);
    if (path === '/events') {
      if (head) return send(res, 200, 'text/event-stream; charset=utf-8', '', true);
      return openStream(req, res);
    }
    return json(res, 404, { error: `nothing at ${path}`, paths: [...assets.keys(), '/snapshot.json', '/history.json', '/events'] }, head);
  };

  // A request without Host gets our 403 (JSON), not Node's bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // Only the observer's own reads can throw here: say so, and keep serving.
      if (!res.headersSent) json(res, 503, { error: `the observer could not answer: ${(e as Error).message}` }, false);
      else res.destroy();
    }
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"malformed request"}');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, OBSERVE_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  port = address.port;
  const url = `http://${OBSERVE_HOST}:${port}/?token=${token}`;

  return {
    url,
    port,
    address,
    close: async () => {
      for (const res of streams) res.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
