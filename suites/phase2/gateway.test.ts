import { describe, expect, it } from 'vitest';
import { nsCommand, port, viaForward } from '../support/checks.ts';
import { servicePid } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell, type Captured } from '../support/evidence.ts';
import { ecomnetExtras } from '../support/live.ts';
import { health, order, orderCreated, productNotFound, products } from '../../src/grader/contract.ts';

const gw = contractNs('api-gateway');
const lb = contractNs('nginx-lb');
const extras = ecomnetExtras('2.2 gateway extras');

/** A reply printed by `curl -w '\n%{http_code}'`: its JSON body and status. */
function reply(r: Captured): { body: unknown; code: number } {
  const cut = r.stdout.lastIndexOf('\n');
  return { body: JSON.parse(r.stdout.slice(0, cut)) as unknown, code: Number(r.stdout.slice(cut + 1)) };
}

const post = `-sS -m 5 -w '\\n%{http_code}' -X POST -H 'Content-Type: application/json' -d '${JSON.stringify(order)}'`;

/** The seed's POST answered 201 with the new order's id: returns the id. */
function created(r: Captured): number {
  expect(r.exitCode, r.stderr).toBe(0);
  const { body, code } = reply(r);
  expect(body).toEqual({ order_id: expect.any(Number), ...orderCreated });
  expect(code).toBe(201);
  return (body as { order_id: number }).order_id;
}

/** ecomnet's GET /api/orders (not the seed's: its gateway has only POST) holds the order just created, newest first. */
async function expectListed(url: string, inNs: boolean, id: number) {
  if (!extras) return;
  const cmd = `curl -sS -m 5 -w '\\n%{http_code}' ${url}`;
  const listing = await recordedShell(inNs ? nsCommand(gw.name, cmd) : cmd);
  const { body, code } = reply(listing);
  expect(code).toBe(200);
  const orders = body as { id: number }[];
  expect(orders.find((o) => o.id === id)).toMatchObject({ id, ...order });
  expect(orders.map((o) => o.id)).toEqual(orders.map((o) => o.id).sort((a, b) => b - a));
}

// Each test makes its own requests and reads only their answers: they wait on the network side by side.
describe.concurrent('2.2 API gateway', () => {
  it(`listens on :${gw.port} in its namespace (ss -lntp)`, async () => {
    deliverable('2.2-listening');
    const r = await recordedShell(nsCommand(gw.name, `ss -lntp | grep ${gw.port}`));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${gw.port} .*users:\\(\\(".*",pid=\\d+,`));
  });

  it.runIf(extras)(`the listener on :${gw.port} is the gateway ecomnet started`, async () => {
    const r = await recordedShell(nsCommand(gw.name, `ss -lntp | grep ${gw.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${gw.port} .*users:\\(\\(".*",pid=${servicePid('gateway')},`));
  });

  it('/health inside its namespace', async () => {
    deliverable('2.2-health-inside');
    const r = await recordedShell(nsCommand(gw.name, `curl -sS -m 5 http://127.0.0.1:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual(health.gateway);
  });

  it(`/health from ${lb.name}`, async () => {
    deliverable('2.2-health-nginx');
    const r = await recordedShell(nsCommand(lb.name, `curl -sS -m 5 http://${gw.ip}:${gw.port}/health`));
    expect(JSON.parse(r.stdout)).toEqual(health.gateway);
  });

  it("routes products from the gateway namespace (the seed's command)", async () => {
    deliverable('2.2-products-namespace');
    const r = await recordedShell(nsCommand(gw.name, `curl -sS -m 5 http://localhost:${gw.port}/api/products`));
    expect(JSON.parse(r.stdout)).toEqual(products);
    const one = await recordedShell(nsCommand(gw.name, `curl -sS -m 5 -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/${products[1]!.id}`));
    expect(reply(one)).toEqual({ body: products[1], code: 200 });
    const none = await recordedShell(nsCommand(gw.name, `curl -sS -m 5 -w '\\n%{http_code}' http://localhost:${gw.port}/api/products/99`));
    expect(reply(none)).toEqual({ body: productNotFound, code: 404 });
  });

  it(`routes products through the host port ${port}, end to end, for a client outside`, async () => {
    deliverable('2.2-products-host');
    const r = await viaForward.externalClient('/api/products');
    expect(JSON.parse(r.stdout)).toEqual(products);
  });

  it.runIf(extras)(`routes products through localhost:${port} on the host itself`, async () => {
    const r = await recordedShell(`curl -sS -m 5 http://localhost:${port}/api/products`);
    expect(JSON.parse(r.stdout)).toEqual(products);
  });

  it("routes orders from the gateway namespace (the seed's POST)", async () => {
    deliverable('2.2-orders-namespace');
    const id = created(await recordedShell(nsCommand(gw.name, `curl ${post} http://localhost:${gw.port}/api/orders`)));
    await expectListed(`http://localhost:${gw.port}/api/orders`, true, id);
  });

  it(`routes orders through the host port ${port}, for a client outside`, async () => {
    deliverable('2.2-orders-host');
    const id = created(await viaForward.externalClient('/api/orders', post));
    await expectListed(`http://localhost:${port}/api/orders`, false, id);
  });

  it.runIf(extras)('bad input through the whole chain is a 4xx JSON error, never a 500', async () => {
    const cases: [string, number][] = [
      [`-H 'Content-Type: application/json' -d '{"customer_id":'`, 400],
      [`-H 'Content-Type: text/plain' -d 'hello'`, 415],
      [`-H 'Content-Type: application/json' -d '{"customer_id":"c","product_id":"p","quantity":0,"total_price":1}'`, 400],
    ];
    for (const [args, status] of cases) {
      const r = await recordedShell(`curl -sS -m 5 -w '\\n%{http_code}' -X POST ${args} http://localhost:${port}/api/orders`);
      const { body, code } = reply(r);
      expect(code, r.command).toBe(status);
      expect(body).toHaveProperty('error');
    }
  });
});
