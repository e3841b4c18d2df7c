import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namespaces } from '../../src/grader/contract.ts';
import type { Matrix } from '../../src/report/types.ts';
import { pingMatrix } from '../support/checks.ts';
import { evidenceDir } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';

const n = namespaces.length;

// Pings are independent: a dropped path costs its timeout once, not once per test.
describe.concurrent('1.2 connectivity between namespaces', () => {
  judged(checksOf('1.2-ping-nginx', '1.2-ping-gateway'), { concurrent: true });

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
