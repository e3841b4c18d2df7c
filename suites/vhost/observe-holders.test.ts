/**
 * Issue 21, finding 5: the observer's holders in a virtual host. A namespace-wide SIGKILL takes a
 * holder; the observer holds the namespace again, never reads or signals the dead holder's pid once
 * a stranger has it, and neither changes nor holds a namespace that is not the lab's.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const lab = topology.app.nodes[0]!.name;

describe('the observer in a virtual host: its holders and the namespaces it touches', () => {
  it('a holder killed with its namespace is held again; its pid given to a stranger is neither read nor signalled; a foreign namespace is left alone', async () => {
    const vh = await VirtualHost.create({ world: false, label: 'observe' });
    try {
      const r = await vh.exec([process.execPath, join(import.meta.dirname, 'observe-inside.ts'), lab], { allowFail: true, timeoutMs: 60_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const found = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      console.log(`observe holders: ${JSON.stringify(found)}`);
      expect(found.foreignDuring, 'a namespace not of the lab: accounting, our chain, our holder').toBe(found.foreignBefore);
      expect(found.first).toContain(`${lab}/lab0`);
      expect(found.planted, 'the dead holder pid given to a stranger').toBe(true);
      expect(found.last, "the stranger's interfaces are never read as the lab's").not.toContain(`${lab}/stranger0`);
      expect(found.last.some((i: string) => i.endsWith('/stranger0'))).toBe(false);
      expect(found.strangerAlive, 'the stranger is not signalled when the observer stops').toBe(true);
      expect(found.h2, 'a new holder').toBeGreaterThan(0);
      expect(found.h2).not.toBe(found.h1);
      expect(found.last, 'the lab namespace read again through its new holder').toContain(`${lab}/lab0`);
    } finally {
      await vh.destroy();
    }
  }, 90_000);
});
