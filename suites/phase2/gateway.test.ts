import { describe, expect, it } from 'vitest';
import { nsCommand, port } from '../support/checks.ts';
import { servicePid } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { recordedShell, type Captured } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { order, orderCreated, products } from '../../src/grader/contract.ts';

const gw = contractNs('api-gateway');

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

// Each test makes its own requests and reads only their answers: they wait on the network side by side.
describe.concurrent('2.2 API gateway', () => {
  judged(checksOf('2.2-listening', '2.2-health-inside', '2.2-health-nginx', '2.2-products-namespace', '2.2-products-host', '2.2-orders-namespace', '2.2-orders-host'), { concurrent: true });

  it(`the listener on :${gw.port} is the gateway ecomnet started`, async () => {
    const r = await recordedShell(nsCommand(gw.name, `ss -lntp | grep ${gw.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${gw.port} .*users:\\(\\(".*",pid=${servicePid('gateway')},`));
  });

  it(`routes products through localhost:${port} on the host itself`, async () => {
    const r = await recordedShell(`curl -sS -m 5 http://localhost:${port}/api/products`);
    expect(JSON.parse(r.stdout)).toEqual(products);
  });

  it("GET /api/orders (ecomnet's, not the seed's: its gateway has only POST) lists an order just posted, newest first, in the namespace and through the host port", async () => {
    for (const [url, inNs] of [
      [`http://localhost:${gw.port}/api/orders`, true],
      [`http://localhost:${port}/api/orders`, false],
    ] as const) {
      const id = created(await recordedShell(inNs ? nsCommand(gw.name, `curl ${post} ${url}`) : `curl ${post} ${url}`));
      const cmd = `curl -sS -m 5 -w '\\n%{http_code}' ${url}`;
      const { body, code } = reply(await recordedShell(inNs ? nsCommand(gw.name, cmd) : cmd));
      expect(code).toBe(200);
      const orders = body as { id: number }[];
      expect(orders.find((o) => o.id === id)).toMatchObject({ id, ...order });
      expect(orders.map((o) => o.id)).toEqual(orders.map((o) => o.id).sort((a, b) => b - a));
    }
  });

  it('bad input through the whole chain is a 4xx JSON error, never a 500', async () => {
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
