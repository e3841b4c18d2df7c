import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../src/data/local.ts';
import { generatePassword } from '../../src/data/password.ts';
import { freePort } from '../../src/data/ports.ts';
import { startLocalPostgres } from '../../src/data/postgres.ts';
import { startLocalRedis } from '../../src/data/redis.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { LOOPBACK } from './helpers.ts';

const MAIN = new URL('../../src/services/main.ts', import.meta.url).pathname;

let dir: string;
let redis: LocalServer;
let db: LocalServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomnet-main-'));
  [redis, db] = await Promise.all([startLocalRedis(), startLocalPostgres()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([redis?.stop(), db?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** A running `node src/services/main.ts` with its stdout split into lines. */
class Service {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(configPath: string) {
    this.child = spawn(process.execPath, [MAIN, configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.lines.push(`STDERR ${chunk}`));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  /** Base URL, from Fastify's "Server listening at" log line. */
  async listening(timeoutMs = 20_000): Promise<string> {
    const listening = waitFor(
      () => {
        const line = this.lines.find((l) => l.includes('Server listening at'));
        check(line !== undefined, `not listening:\n${this.lines.join('\n')}`);
        return (JSON.parse(line!).msg as string).replace('Server listening at ', '');
      },
      { what: 'the service', timeoutMs, intervalMs: 50 },
    );
    // A service that exits will never listen: said at once, not at the deadline.
    const died = this.exited.then((code) => Promise.reject(new Error(`exited ${code} before listening:\n${this.lines.join('\n')}`)));
    return Promise.race([listening, died]);
  }

  async stop(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

async function config(name: string, body: object): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(body), { mode: 0o600 });
  return path;
}

const listenAnywhere = { host: LOOPBACK, port: 0 };

function expectJsonLinesWithout(lines: string[], secrets: string[]) {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(() => JSON.parse(line), line).not.toThrow();
    for (const secret of secrets) expect(line).not.toContain(secret);
  }
}

describe('services main', () => {
  it('runs the product service, logs JSON lines without the password, and exits 0 on SIGTERM', async () => {
    const svc = new Service(await config('product', { service: 'product', listen: listenAnywhere, redisUrl: redis.url }));
    try {
      const base = await svc.listening();
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'healthy', service: 'product-service' });
      const cache = await waitFor(
        async () => {
          const c = (await fetch(`${base}/products/3`)).headers.get('x-cache');
          check(c !== 'BYPASS', 'still BYPASS');
          return c;
        },
        { what: 'the cache connected', timeoutMs: 5000 },
      );
      expect(['MISS', 'HIT']).toContain(cache);
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expectJsonLinesWithout(svc.lines, [redis.password]);
  });

  it('runs the order service: waits for a database that is not up yet, creates the schema, exits 0 on SIGINT', async () => {
    await db.down();
    const operatorToken = generatePassword();
    const svc = new Service(await config('order', { service: 'order', listen: listenAnywhere, pgUrl: db.url, operatorToken }));
    try {
      await waitFor(
        () =>
          check(
            svc.lines.some((l) => l.includes('database not ready')),
            'no "database not ready" yet',
          ),
        { what: 'the order service waiting', timeoutMs: 15_000 },
      );
      expect(svc.lines.some((l) => l.includes('Server listening at'))).toBe(false);
      await db.up();
      const base = await svc.listening();
      const res = await fetch(`${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer_id: 'cust-101', product_id: 'prod-201', quantity: 2, total_price: 150.0 }),
      });
      expect(res.status).toBe(201);
      // The configured token is the operator's: it lists what a stranger only counts.
      const { order_id } = (await res.json()) as { order_id: number };
      const listed = (await (await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${operatorToken}` } })).json()) as { id: number }[];
      expect(listed.map((o) => o.id)).toContain(order_id);
      expect(await (await fetch(`${base}/orders`)).json()).toEqual({ count: listed.length, note: expect.any(String) });
    } finally {
      await db.up();
      expect(await svc.stop('SIGINT')).toBe(0);
    }
    expectJsonLinesWithout(svc.lines, [db.password, operatorToken]);
  }, 40_000);

  it('runs the gateway and exits 0 on SIGTERM', async () => {
    const nowhere = `http://${LOOPBACK}:${await freePort()}`;
    const svc = new Service(await config('gateway', { service: 'gateway', listen: listenAnywhere, productUrl: nowhere, orderUrl: nowhere, timeoutMs: 500 }));
    try {
      const base = await svc.listening();
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'healthy', service: 'api-gateway' });
      const res = await fetch(`${base}/api/products`, { headers: { 'x-request-id': 'main-1' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('x-request-id')).toBe('main-1');
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expect(svc.lines.some((l) => l.includes('"reqId":"main-1"') && l.includes('"statusCode":503'))).toBe(true);
    // At the default level a successful request (the health check) leaves no log line.
    expect(svc.lines.filter((l) => l.includes('"reqId"')).every((l) => l.includes('"reqId":"main-1"'))).toBe(true);
    expectJsonLinesWithout(svc.lines, []);
  });

  it('exits 1 on an invalid config without echoing its contents', async () => {
    const secret = 'hunter2-not-logged';
    const path = join(dir, 'broken.json');
    await writeFile(path, `{"service":"order","pgUrl":"postgres://u:${secret}@x/y",`);
    const svc = new Service(path);
    expect(await svc.exited).toBe(1);
    expectJsonLinesWithout(svc.lines, [secret]);
    const wrong = new Service(await config('wrong', { service: 'cart', listen: listenAnywhere }));
    expect(await wrong.exited).toBe(1);
    expect(wrong.lines.join('\n')).toContain('config.service');
    const guessable = new Service(await config('guessable', { service: 'order', listen: listenAnywhere, pgUrl: 'postgres://x/y', operatorToken: 'tooshort1' }));
    expect(await guessable.exited).toBe(1);
    expect(guessable.lines.join('\n')).toContain('config.operatorToken');
    expectJsonLinesWithout(guessable.lines, ['tooshort1']);
  });
});
