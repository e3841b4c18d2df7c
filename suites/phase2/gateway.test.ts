import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { deliverable, sh } from '../support/evidence.ts';
import { inNs, port } from '../support/checks.ts';
import { servicePid } from '../support/data.ts';

const gw = nodeOf('gateway');
const lb = nodeOf('nginx');
const seedProducts = [
  { id: '1', name: 'Laptop', price: 999.99, stock: 50 },
  { id: '2', name: 'Mouse', price: 29.99, stock: 200 },
  { id: '3', name: 'Keyboard', price: 79.99, stock: 150 },
];

describe('2.2 API gateway', () => {
  it(`listens on :${gw.port} in its namespace (ss -lntp)`, async () => {
    deliverable('2.2-listening');
    const r = await sh(inNs(gw.name, `ss -lntp | grep ${gw.port}`));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${gw.port} .*users:\\(\\(".*",pid=${servicePid('gateway')},`));
  });

  it('/health inside its namespace', async () => {
    deliverable('2.2-health-inside');
    const r = await sh(inNs(gw.name, `curl -sS http://127.0.0.1:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual({ status: 'healthy', service: 'api-gateway' });
  });

  it(`/health from ${lb.name}`, async () => {
    deliverable('2.2-health-nginx');
    const r = await sh(inNs(lb.name, `curl -sS http://${gw.ip}:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual({ status: 'healthy', service: 'api-gateway' });
  });

  it('routes products from the gateway namespace (the seed\'s command)', async () => {
    deliverable('2.2-products-namespace');
    const r = await sh(inNs(gw.name, `curl -sS http://localhost:${gw.port}/api/products`));
    expect(JSON.parse(r.stdout)).toEqual(seedProducts);
    const one = await sh(inNs(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/2`));
    expect(one.stdout).toBe(`${JSON.stringify(seedProducts[1])}\n200`);
    const none = await sh(inNs(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/99`));
    expect(none.stdout).toBe('{"error":"Product not found"}\n404');
  });

  it(`routes products through the host port ${port}, end to end`, async () => {
    deliverable('2.2-products-host');
    for (const host of ['localhost', topology.outside.bridge.ip]) {
      const r = await sh(`curl -sS http://${host}:${port}/api/products`);
      expect(JSON.parse(r.stdout)).toEqual(seedProducts);
    }
  });

  it('routes orders from the gateway namespace', async () => {
    deliverable('2.2-orders-namespace');
    const r = await sh(inNs(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/orders`));
    const [body, code] = r.stdout.split('\n');
    expect(code).toBe('200');
    expect(Array.isArray(JSON.parse(body!))).toBe(true);
  });

  it(`routes orders through the host port ${port}`, async () => {
    deliverable('2.2-orders-host');
    const r = await sh(`curl -sS -w '\\n%{http_code}' 'http://localhost:${port}/api/orders?limit=5'`);
    const [body, code] = r.stdout.split('\n');
    expect(code).toBe('200');
    const orders = JSON.parse(body!) as { id: number }[];
    expect(orders.length).toBeLessThanOrEqual(5);
    expect(orders.map((o) => o.id)).toEqual([...orders.map((o) => o.id)].sort((a, b) => b - a));
  });

  it('bad input through the whole chain is a 4xx JSON error, never a 500', async () => {
    const cases: [string, number][] = [
      [`-H 'Content-Type: application/json' -d '{"customer_id":'`, 400],
      [`-H 'Content-Type: text/plain' -d 'hello'`, 415],
      [`-H 'Content-Type: application/json' -d '{"customer_id":"c","product_id":"p","quantity":0,"total_price":1}'`, 400],
    ];
    for (const [args, status] of cases) {
      const r = await sh(`curl -sS -w '\\n%{http_code}' -X POST ${args} http://localhost:${port}/api/orders`);
      const [body, code] = r.stdout.split('\n');
      expect(Number(code), r.command).toBe(status);
      expect(JSON.parse(body!)).toHaveProperty('error');
    }
  });
});
