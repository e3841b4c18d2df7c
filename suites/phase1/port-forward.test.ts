import { describe, expect, it } from 'vitest';
import { nginx } from '../../src/grader/contract.ts';
import { contractNs } from '../../src/grader/find.ts';
import { priv } from '../../src/host/exec.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { check, waitFor } from '../../src/util/wait.ts';
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
    const access = runDir.log('nginx-access');
    const line = new RegExp(`^${escapeRegExp(client.ip)} - - .*"GET /health`, 'm');
    // nginx writes its access log in buffers (64 KB, or after 1 s), and other suites' requests come in between.
    await waitFor(async () => check(line.test((await priv(['cat', access])).stdout), 'not logged yet'), { what: "the client's request in the access log", timeoutMs: 5000 });
    const log = await recordedShell(`grep -F '${client.ip} - - ' ${access} | grep -F '"GET /health' | tail -n 1`);
    expect(log.stdout).toMatch(line);
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
