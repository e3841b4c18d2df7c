import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { deliverable, evidenceDir, record } from '../support/evidence.ts';
import { ping, pingMatrix } from '../support/checks.ts';

const lb = nodeOf('nginx');
const gw = nodeOf('gateway');
const product = nodeOf('product');
const order = nodeOf('order');

describe('1.2 connectivity between namespaces', () => {
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

  it('every namespace pings every other (6 x 6, 30 pairs, in parallel)', async () => {
    deliverable('1.2-ping-nginx', '1.2-ping-gateway');
    const t0 = Date.now();
    const m = await pingMatrix();
    record({ command: 'ping matrix (every namespace -> every other, ping -c 1)', stdout: `${m.text}\n`, stderr: '', exitCode: 0, durationMs: Date.now() - t0, at: new Date(t0).toISOString() });
    writeFileSync(join(evidenceDir, 'matrix.json'), JSON.stringify({ nodes: topology.app.nodes.map((n) => n.name), cells: m.cells, summary: m.summary }));
    const n = topology.app.nodes.length;
    expect(m.cells).toHaveLength(n * (n - 1));
    expect(m.cells.filter((c) => c.expected !== c.received)).toEqual([]);
    expect(m.summary).toBe(`Results: 0% dropped (${n * (n - 1)}/${n * (n - 1)} received)`);
  });
});
