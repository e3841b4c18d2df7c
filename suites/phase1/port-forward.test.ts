import { describe, expect, it } from 'vitest';
import { nginx } from '../../src/grader/contract.ts';
import { contractNs } from '../../src/grader/find.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { client, port, viaForward } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { runDir } from '../support/platform.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');

describe(`1.4 port forwarding: host ${port} -> ${lb.name} ${lb.ip}:${lb.port}`, () => {
  // Side by side: a dropped forward costs one timeout; each asks its own request.
  judged(checksOf('1.4-external-client', '1.4-traffic-flow'), { concurrent: true });

  it("ecomnet's nginx logged the external client's own address: DNAT rewrote only the destination", async () => {
    await viaForward.externalClient();
    const log = await recordedShell(`tail -n 3 ${runDir.log('nginx-access')}`);
    expect(log.stdout).toMatch(new RegExp(`^${escapeRegExp(client.ip)} - - .*"GET /health`, 'm'));
  });

  it('the host reaches it through localhost, 127.0.0.1 and its uplink address', async () => {
    for (const r of [await viaForward.localhost(), await viaForward.loopback(), await viaForward.uplinkAddress()]) {
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(nginx.health);
    }
  });

  it(`hairpin: ${gw.name} and ${lb.name} itself reach it through a host address :${port}`, async () => {
    for (const from of [gw.name, lb.name]) {
      const r = await viaForward.hairpin(from);
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(nginx.health);
    }
  });
});
