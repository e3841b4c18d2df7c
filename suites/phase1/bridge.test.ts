import { describe, expect, it } from 'vitest';
import { namespaces } from '../../src/grader/contract.ts';
import { ecomnet } from '../support/cli.ts';
import { checksOf, judged } from '../support/graded.ts';

describe('1.2 virtual bridge network', () => {
  judged(checksOf('1.2-bridge', '1.2-veth', '1.2-diagram'));

  it('ecomnet diagram --live draws every namespace with its address, and exits 0: nothing differs from the seed', async () => {
    const diagram = await ecomnet(['diagram', '--live']);
    expect(diagram.exitCode, diagram.stderr).toBe(0);
    const drawn = new Map([...diagram.stdout.matchAll(/\["([^"<]+)<br\/>([\d.]+)/g)].map((m) => [m[1]!, m[2]!]));
    for (const n of namespaces) expect(drawn.get(n.name), n.name).toBe(n.ip);
  });
});
