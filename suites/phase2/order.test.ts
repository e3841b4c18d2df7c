import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { order as seedOrder } from '../../src/grader/contract.ts';
import { restartService } from '../../src/runtime/start-order.ts';
import { nsCommand, port } from '../support/checks.ts';
import { servicePid, sql } from '../support/data.ts';
import { contractNs } from '../../src/grader/find.ts';
import { recordedShell } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { lab } from '../support/live.ts';
import { operatorHeader } from '../support/operator.ts';
import { runDir } from '../support/platform.ts';

const order = contractNs('order-service');
const seedPost = (url: string) => `curl -sS -m 5 -X POST ${url} -H "Content-Type: application/json" -d '${JSON.stringify(seedOrder)}'`;

/** The order the grader's check wrote (2.4-order-written), which ecomnet's extras read back. */
const created = async () => (await lab).shared.get('order') as number;

describe('2.4 order service with PostgreSQL', () => {
  judged(checksOf('2.4-order-listening', '2.4-postgres-running', '2.4-postgres-listening', '2.4-order-reaches-postgres', '2.4-order-written', '2.4-order-read-back'));

  it(`the listener on :${order.port} is the order service ecomnet started`, async () => {
    const r = await recordedShell(nsCommand(order.name, `ss -lntp | grep ${order.port}`));
    expect(r.stdout).toMatch(new RegExp(`LISTEN .*:${order.port} .*users:\\(\\(".*",pid=${servicePid('order')},`));
  });

  it('the order is still there after the order service restarts', async () => {
    const id = await created();
    expect(id).toBeGreaterThan(0);
    // Read as the operator: an order is no stranger's to read.
    const operator = operatorHeader(runDir);
    try {
      const read = () => recordedShell(`curl -sS -m 5 ${operator.curlArgs} http://localhost:${port}/api/orders/${id}`);
      const before = await read();
      await restartService(topology, runDir, 'order', () => {});
      const after = await read();
      expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
      expect(JSON.parse(after.stdout)).toMatchObject({ id, ...seedOrder, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    } finally {
      operator.remove();
    }
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
