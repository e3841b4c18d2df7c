import { describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { order as seedOrder, orderCreated, orderRow } from '../../src/grader/contract.ts';
import { restartService } from '../../src/runtime/start-order.ts';
import { nsCommand, port, tcpProbe } from '../support/checks.ts';
import { servicePid, sql } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { ecomnetExtras, pgLogin, pgWhere } from '../support/live.ts';
import { runDir } from '../support/platform.ts';

const order = contractNs('order-service');
const gw = contractNs('api-gateway');
const pg = contractNs('postgres-db');
const extras = ecomnetExtras('2.4 order extras');
const seedPost = (url: string) => `curl -sS -m 5 -X POST ${url} -H "Content-Type: application/json" -d '${JSON.stringify(seedOrder)}'`;

/** How a person shows PostgreSQL running where this build put it (the seed: `docker ps`). */
const runningEvidence = {
  namespace: { what: `its processes in ${pg.name}`, command: `ps -o pid,user,args -p "$(ip netns pids ${pg.name} | paste -sd,)"`, shows: /postgres/ },
  container: {
    what: 'a container publishing it (docker ps)',
    command: `docker ps --filter publish=${pg.port} --format '{{.Names}} {{.Image}} {{.Status}} {{.Ports}}'`,
    shows: new RegExp(`Up .*:${pg.port}->`),
  },
  host: { what: `a server on the host listening on :${pg.port}`, command: `ss -lntp | grep ':${pg.port} '`, shows: /postgres/ },
};

let created = 0;

describe('2.4 order service with PostgreSQL', () => {
  it(`order-service listens on :${order.port}`, async () => {
    deliverable('2.4-order-listening');
    const r = await recordedShell(nsCommand(order.name, `ss -lntp | grep ${order.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${order.port} .*users:\\(\\(".*",pid=\\d+,`));
  });

  it.runIf(extras)(`the listener on :${order.port} is the order service ecomnet started`, async () => {
    const r = await recordedShell(nsCommand(order.name, `ss -lntp | grep ${order.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${order.port} .*users:\\(\\(".*",pid=${servicePid('order')},`));
  });

  it(`PostgreSQL runs: ${pgWhere ? runningEvidence[pgWhere].what : 'nowhere the seed or a learner puts it'}`, async () => {
    deliverable('2.4-postgres-running');
    expect(pgWhere, `PostgreSQL in ${pg.name}, in a container publishing ${pg.port}, or on the host behind the bridge`).toBeDefined();
    const e = runningEvidence[pgWhere!];
    const r = await recordedShell(e.command);
    expect(r.stdout).toMatch(e.shows);
  });

  it(`PostgreSQL listens on ${pgLogin.host}:${pgLogin.port} (pg_isready)`, async () => {
    deliverable('2.4-postgres-listening');
    const r = await recordedShell(`pg_isready -h ${pgLogin.host} -p ${pgLogin.port} -t 5`);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accepting connections/);
  });

  it(`order-service reaches PostgreSQL (nc -zv ${pgLogin.host} ${pgLogin.port})`, async () => {
    deliverable('2.4-order-reaches-postgres');
    const r = await tcpProbe(order.name, pgLogin.host, pgLogin.port);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it("the seed's POST through the gateway namespace creates the order (201)", async () => {
    deliverable('2.4-order-written');
    const r = await recordedShell(`${nsCommand(gw.name, seedPost(`http://localhost:${gw.port}/api/orders`))} -w '\\n%{http_code}'`);
    const [body, code] = r.stdout.split('\n');
    expect(code, r.stdout + r.stderr).toBe('201');
    const a = JSON.parse(body!) as { order_id: number; status: string };
    expect(a).toEqual({ order_id: expect.any(Number), ...orderCreated });
    created = a.order_id;
  });

  it('the row read straight from PostgreSQL equals what was sent (SELECT * FROM orders)', async () => {
    deliverable('2.4-order-read-back');
    expect(created, 'an order was created').toBeGreaterThan(0);
    const all = await sql('SELECT * FROM orders;');
    expect(all.exitCode, all.stderr).toBe(0);
    const r = await sql(`SELECT customer_id, product_id, quantity, total_price FROM orders WHERE id = ${created};`, '-At', '-F,');
    expect(r.stdout.trim()).toBe(orderRow);
  });

  it.runIf(extras)('the order is still there after the order service restarts', async () => {
    expect(created).toBeGreaterThan(0);
    const before = await recordedShell(`curl -sS -m 5 http://localhost:${port}/api/orders/${created}`);
    await restartService(topology, runDir, 'order', () => {});
    const after = await recordedShell(`curl -sS -m 5 http://localhost:${port}/api/orders/${created}`);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(JSON.parse(after.stdout)).toMatchObject({ id: created, ...seedOrder, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it.runIf(extras)('a retried POST with the same Idempotency-Key returns the first order, and writes one row', async () => {
    const key = `retry-${Date.now()}`;
    const post = () => recordedShell(`${seedPost(`http://localhost:${port}/api/orders`)} -H 'Idempotency-Key: ${key}'`);
    const first = JSON.parse((await post()).stdout) as { order_id: number };
    const second = JSON.parse((await post()).stdout) as { order_id: number };
    expect(second.order_id).toBe(first.order_id);
    const count = await sql(`SELECT count(*) FROM orders WHERE id >= ${first.order_id};`, '-At');
    expect(count.stdout.trim()).toBe('1');
  });
});
