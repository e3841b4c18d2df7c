import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { restartService } from '../../src/runtime/start-order.ts';
import { escapeRegExp } from '../../src/text.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { nsCommand, port, tcpProbe } from '../support/checks.ts';
import { pg, servicePid, sql } from '../support/data.ts';
import { order as seedOrder, orderCreated, orderRow } from '../support/seed.ts';
import { platformInfo, runDir } from '../support/platform.ts';

const order = nodeOf('order');
const gw = nodeOf('gateway');
const native = platformInfo().data === 'native';
const seedPost = (url: string) => `curl -sS -X POST ${url} -H "Content-Type: application/json" -d '${JSON.stringify(seedOrder)}'`;

let created = 0;

describe('2.4 order service with PostgreSQL', () => {
  it(`order-service listens on :${order.port}`, async () => {
    deliverable('2.4-order-listening');
    const r = await recordedShell(nsCommand(order.name, `ss -lntp | grep ${order.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${order.port} .*users:\\(\\(".*",pid=${servicePid('order')},`));
  });

  it.skipIf(!native)(`PostgreSQL runs in ${pg.name} (its processes, as the postgres user)`, async () => {
    deliverable('2.4-postgres-running');
    const r = await recordedShell(`ps -o pid,user,args -p "$(ip netns pids ${pg.name} | paste -sd,)"`);
    expect(r.stdout).toMatch(/^\s*\d+\s+postgres\s+\S*postgres -D /m);
  });

  it.skipIf(!native)(`PostgreSQL listens on :${pg.port} in ${pg.name}`, async () => {
    deliverable('2.4-postgres-listening');
    const r = await recordedShell(nsCommand(pg.name, `ss -lntp | grep ${pg.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*${escapeRegExp(pg.ip)}:${pg.port} .*postgres`));
  });

  it.skipIf(!native)(`order-service reaches PostgreSQL (nc -zv ${pg.ip} ${pg.port})`, async () => {
    deliverable('2.4-order-reaches-postgres');
    const r = await tcpProbe(order.name, pg.ip, pg.port!);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it("the seed's POST through the gateway namespace and through localhost:8080 gives 201", async () => {
    deliverable('2.4-order-written');
    const viaGateway = await recordedShell(nsCommand(gw.name, seedPost(`http://localhost:${gw.port}/api/orders`)));
    const a = JSON.parse(viaGateway.stdout) as { order_id: number; status: string };
    expect(a).toEqual({ order_id: expect.any(Number), ...orderCreated });
    const viaHost = await recordedShell(`${seedPost(`http://localhost:${port}/api/orders`)} -w '\\n%{http_code}'`);
    const [body, code] = viaHost.stdout.split('\n');
    expect(code).toBe('201');
    const b = JSON.parse(body!) as { order_id: number; status: string };
    expect(b.order_id).toBeGreaterThan(a.order_id);
    created = b.order_id;
  });

  it('the row read straight from PostgreSQL equals what was sent (SELECT * FROM orders)', async () => {
    deliverable('2.4-order-read-back');
    expect(created).toBeGreaterThan(0);
    const all = await sql('SELECT * FROM orders;');
    expect(all.exitCode, all.stderr).toBe(0);
    const r = await sql(`SELECT customer_id, product_id, quantity, total_price FROM orders WHERE id = ${created};`, '-At', '-F,');
    expect(r.stdout.trim()).toBe(orderRow);
  });

  it('the order is still there after the order service restarts', async () => {
    expect(created).toBeGreaterThan(0);
    const before = await recordedShell(`curl -sS http://localhost:${port}/api/orders/${created}`);
    await restartService(topology, runDir, 'order', () => {});
    const after = await recordedShell(`curl -sS http://localhost:${port}/api/orders/${created}`);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(JSON.parse(after.stdout)).toMatchObject({ id: created, ...seedOrder, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('a retried POST with the same Idempotency-Key returns the first order, and writes one row', async () => {
    const key = `retry-${Date.now()}`;
    const post = () => recordedShell(`${seedPost(`http://localhost:${port}/api/orders`)} -H 'Idempotency-Key: ${key}'`);
    const first = JSON.parse((await post()).stdout) as { order_id: number };
    const second = JSON.parse((await post()).stdout) as { order_id: number };
    expect(second.order_id).toBe(first.order_id);
    const count = await sql(`SELECT count(*) FROM orders WHERE id >= ${first.order_id};`, '-At');
    expect(count.stdout.trim()).toBe('1');
  });
});
