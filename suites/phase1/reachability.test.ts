import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namespaces } from '../../src/grader/contract.ts';
import type { Matrix } from '../../src/report/types.ts';
import { ping, pingMatrix } from '../support/checks.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, evidenceDir } from '../support/evidence.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');
const product = contractNs('product-service');
const order = contractNs('order-service');
const n = namespaces.length;

// Pings are independent: a dropped path costs its timeout once, not once per test.
describe.concurrent('1.2 connectivity between namespaces', () => {
  it(`${lb.name} pings ${gw.name} and ${product.name} (the seed's commands)`, async () => {
    deliverable('1.2-ping-nginx');
    for (const to of [gw, product]) {
      const r = await ping(lb.name, to.ip);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/2 packets transmitted, 2 received, 0% packet loss/);
    }
  });

  it(`${gw.name} pings ${product.name} and ${order.name}`, async () => {
    deliverable('1.2-ping-gateway');
    for (const to of [product, order]) {
      const r = await ping(gw.name, to.ip);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/2 packets transmitted, 2 received, 0% packet loss/);
    }
  });

  it(`every one of the seed's ${n} namespaces pings every other (${n * (n - 1)} pairs, in parallel, each ping recorded)`, async () => {
    const m = await pingMatrix();
    const matrix: Matrix = { nodes: namespaces.map((x) => x.name), cells: m.cells, summary: m.summary };
    writeFileSync(join(evidenceDir, 'matrix.json'), JSON.stringify(matrix));
    expect(new Set(m.cells.map((c) => c.from))).toEqual(new Set(matrix.nodes));
    expect(m.cells).toHaveLength(n * (n - 1));
    expect(m.cells.filter((c) => !c.received)).toEqual([]);
    expect(m.summary).toBe(`Results: 0% dropped (${n * (n - 1)}/${n * (n - 1)} received)`);
  });
});
