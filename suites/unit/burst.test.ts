import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burstCurl, parseBurst } from '../support/burst.ts';

/** The traffic suite's burst, run against a server on loopback that counts connections and requests. */
describe('the burst: one curl, each request on its own connection', () => {
  let server: Server;
  let base = '';
  let connections = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.connection} ${body}`);
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(req.method === 'POST' ? '{"status":"created"}' : '[{"id":"prod-201"}]');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends exactly the requests asked for, one connection each, and reads their statuses and sizes back', async () => {
    const order = { customer_id: 'cust-101', quantity: 2 };
    const line = burstCurl(base, [
      { method: 'GET', path: '/api/products', count: 30 },
      { method: 'POST', path: '/api/orders', count: 4, body: order },
    ]);
    const { stdout } = await promisify(execFile)('bash', ['-o', 'pipefail', '-c', line]);
    expect(stdout.trim().split('\n').length, 'uniq -c keeps the evidence short').toBeLessThanOrEqual(4);
    const b = parseBurst(stdout);
    expect(b.errors).toEqual([]);
    expect(b.requests).toEqual([
      { method: 'GET', path: '/api/products', count: 30, statuses: { '200': 30 } },
      { method: 'POST', path: '/api/orders', count: 4, statuses: { '201': 4 } },
    ]);
    expect(connections).toBe(34);
    expect(seen.filter((s) => s === 'GET /api/products close ')).toHaveLength(30);
    expect(seen.filter((s) => s === `POST /api/orders close ${JSON.stringify(order)}`)).toHaveLength(4);
    // What curl sent: each request line and head, and the bodies.
    const head = (m: string, p: string) => `${m} ${p} HTTP/1.1\r\n`.length;
    expect(b.requestBytes).toBeGreaterThan(30 * head('GET', '/api/products') + 4 * (head('POST', '/api/orders') + JSON.stringify(order).length));
    expect(b.responseBytes).toBeGreaterThan(30 * '[{"id":"prod-201"}]'.length + 4 * '{"status":"created"}'.length);
  });

  it("counts curl's own failures as errors, not as requests", () => {
    const b = parseBurst('    198 GET http://h:8080/api/products 200 98 0 250 700\n      2 GET http://h:8080/api/products 000 0 0 0 0\n      1 curl: (7) Failed to connect\n');
    expect(b.requests).toEqual([{ method: 'GET', path: '/api/products', count: 200, statuses: { '200': 198, '000': 2 } }]);
    expect(b.errors).toEqual(['1 curl: (7) Failed to connect']);
    expect(b.requestBytes).toBe(198 * 98);
  });

  it('refuses a POST without a body', () => {
    expect(() => burstCurl(base, [{ method: 'POST', path: '/api/orders', count: 1 }])).toThrow(/needs a body/);
  });
});
