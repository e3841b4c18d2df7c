import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { deliverable, recordedShell, type Captured } from '../support/evidence.ts';
import { nsCommand, port } from '../support/checks.ts';
import { servicePid } from '../support/data.ts';
import { health, order, orderCreated, productNotFound, products } from '../support/seed.ts';

const gw = nodeOf('gateway');
const lb = nodeOf('nginx');

/** A reply printed by `curl -w '\n%{http_code}'`: its JSON body and status. */
function reply(r: Captured): { body: unknown; code: number } {
  const cut = r.stdout.lastIndexOf('\n');
  return { body: JSON.parse(r.stdout.slice(0, cut)) as unknown, code: Number(r.stdout.slice(cut + 1)) };
}

/** The seed's order, POSTed through the gateway in its namespace: what the listing tests must then find. */
async function createOrder(): Promise<number> {
  const r = await recordedShell(nsCommand(gw.name, `curl -sS -X POST http://localhost:${gw.port}/api/orders -H 'Content-Type: application/json' -d '${JSON.stringify(order)}'`));
  const created = JSON.parse(r.stdout) as { order_id: number };
  expect(created).toEqual({ order_id: expect.any(Number), ...orderCreated });
  return created.order_id;
}

/** The listing holds the order just created, with what was sent, newest first. */
function expectListed(listing: Captured, id: number) {
  const { body, code } = reply(listing);
  expect(code).toBe(200);
  const orders = body as { id: number }[];
  expect(orders.find((o) => o.id === id)).toMatchObject({ id, ...order });
  expect(orders.map((o) => o.id)).toEqual(orders.map((o) => o.id).sort((a, b) => b - a));
}

describe('2.2 API gateway', () => {
  it(`listens on :${gw.port} in its namespace (ss -lntp)`, async () => {
    deliverable('2.2-listening');
    const r = await recordedShell(nsCommand(gw.name, `ss -lntp | grep ${gw.port}`));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${gw.port} .*users:\\(\\(".*",pid=${servicePid('gateway')},`));
  });

  it('/health inside its namespace', async () => {
    deliverable('2.2-health-inside');
    const r = await recordedShell(nsCommand(gw.name, `curl -sS http://127.0.0.1:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual(health.gateway);
  });

  it(`/health from ${lb.name}`, async () => {
    deliverable('2.2-health-nginx');
    const r = await recordedShell(nsCommand(lb.name, `curl -sS http://${gw.ip}:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual(health.gateway);
  });

  it("routes products from the gateway namespace (the seed's command)", async () => {
    deliverable('2.2-products-namespace');
    const r = await recordedShell(nsCommand(gw.name, `curl -sS http://localhost:${gw.port}/api/products`));
    expect(JSON.parse(r.stdout)).toEqual(products);
    const one = await recordedShell(nsCommand(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/${products[1]!.id}`));
    expect(reply(one)).toEqual({ body: products[1], code: 200 });
    const none = await recordedShell(nsCommand(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/99`));
    expect(reply(none)).toEqual({ body: productNotFound, code: 404 });
  });

  it(`routes products through the host port ${port}, end to end`, async () => {
    deliverable('2.2-products-host');
    for (const host of ['localhost', topology.outside.bridge.ip]) {
      const r = await recordedShell(`curl -sS http://${host}:${port}/api/products`);
      expect(JSON.parse(r.stdout)).toEqual(products);
    }
  });

  it('routes orders from the gateway namespace: an order just created is listed', async () => {
    deliverable('2.2-orders-namespace');
    const id = await createOrder();
    expectListed(await recordedShell(nsCommand(gw.name, `curl -sS -w '\\n%{http_code}' http://localhost:${gw.port}/api/orders`)), id);
  });

  it(`routes orders through the host port ${port}: an order just created is listed`, async () => {
    deliverable('2.2-orders-host');
    const id = await createOrder();
    expectListed(await recordedShell(`curl -sS -w '\\n%{http_code}' http://localhost:${port}/api/orders`), id);
  });

  it('bad input through the whole chain is a 4xx JSON error, never a 500', async () => {
    const cases: [string, number][] = [
      [`-H 'Content-Type: application/json' -d '{"customer_id":'`, 400],
      [`-H 'Content-Type: text/plain' -d 'hello'`, 415],
      [`-H 'Content-Type: application/json' -d '{"customer_id":"c","product_id":"p","quantity":0,"total_price":1}'`, 400],
    ];
    for (const [args, status] of cases) {
      const r = await recordedShell(`curl -sS -w '\\n%{http_code}' -X POST ${args} http://localhost:${port}/api/orders`);
      const { body, code } = reply(r);
      expect(code, r.command).toBe(status);
      expect(body).toHaveProperty('error');
    }
  });
});
