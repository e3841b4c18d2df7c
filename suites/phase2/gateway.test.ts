import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READ_RATE } from '../../src/runtime/nginx.ts';
import { client, hostAddress, internet, nsCommand, port } from '../support/checks.ts';
import { operatorHeader } from '../support/operator.ts';
import { runDir } from '../support/platform.ts';
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

  it("GET /api/orders (ecomnet's, not the seed's: its gateway has only POST) lists orders newest first to the operator's token only; a stranger gets their count, GET /api/orders/:id a 401; in the namespace, on the host and from outside", async () => {
    const operator = operatorHeader(runDir);
    try {
      for (const [url, ns] of [
        [`http://localhost:${gw.port}/api/orders`, gw.name],
        [`http://localhost:${port}/api/orders`, undefined],
        [`http://${hostAddress}:${port}/api/orders`, client.name],
      ] as const) {
        const shell = (cmd: string) => recordedShell(ns ? nsCommand(ns, cmd) : cmd);
        const get = async (auth: string, path = '') => reply(await shell(`curl -sS -m 5 -w '\\n%{http_code}' ${auth} ${url}${path}`));
        const id = created(await shell(`curl ${post} ${url}`));
        const { body, code } = await get(operator.curlArgs);
        expect(code).toBe(200);
        const orders = body as { id: number }[];
        expect(orders.find((o) => o.id === id)).toMatchObject({ id, ...order });
        expect(orders.map((o) => o.id)).toEqual(orders.map((o) => o.id).sort((a, b) => b - a));
        // The seed's `curl HOST:8080/api/orders` still reaches the order service, and learns no customer's data.
        const stranger = await get('');
        expect(stranger).toEqual({ code: 200, body: { count: expect.any(Number), note: expect.stringContaining('Authorization: Bearer') } });
        expect((stranger.body as { count: number }).count).toBeGreaterThanOrEqual(1);
        expect(JSON.stringify(stranger.body)).not.toContain(order.customer_id);
        expect(await get('', `/${id}`)).toEqual({ code: 401, body: { error: expect.stringContaining('operator token') } });
        expect((await get(operator.curlArgs, `/${id}`)).body).toMatchObject({ id, ...order });
      }
    } finally {
      operator.remove();
    }
  });

  it(`GETs from one outside address are limited to ${READ_RATE.perSecond}/s (burst ${READ_RATE.burst}): 429 with a JSON error`, async () => {
    // From the simulated internet host, another outside address: the external client's bucket stays full for the suites after.
    const n = 3 * READ_RATE.burst;
    const bodies = mkdtempSync(join(tmpdir(), 'ecomnet-read-429-'));
    try {
      const url = `http://${hostAddress}:${port}/api/orders`;
      const burst = await recordedShell(
        nsCommand(internet.name, `curl -sS -Z --parallel-max 100 -m 10 -o '${bodies}/#1.json' -w '%{http_code} %{content_type}\\n' '${url}?[1-${n}]' | sort | uniq -c`),
      );
      const tally = Object.fromEntries([...burst.stdout.matchAll(/^\s*(\d+) (\d{3}) (.*)$/gm)].map(([, count, status, type]) => [`${status} ${type}`, Number(count)]));
      const limited = tally['429 application/json'] ?? 0;
      expect(tally['200 application/json; charset=utf-8'], burst.stdout).toBeGreaterThanOrEqual(READ_RATE.burst);
      expect(limited, burst.stdout).toBeGreaterThan(0);
      expect(
        Object.values(tally).reduce((a, b) => a + b, 0),
        burst.stdout,
      ).toBe(n);
      const refusals = readdirSync(bodies)
        .map((f) => JSON.parse(readFileSync(join(bodies, f), 'utf8')) as object)
        .filter((b) => 'error' in b);
      expect(refusals).toHaveLength(limited);
      expect(new Set(refusals.map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify({ error: `Too many requests from this address (at most ${READ_RATE.perSecond} per second)` })]));
    } finally {
      rmSync(bodies, { recursive: true, force: true });
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
