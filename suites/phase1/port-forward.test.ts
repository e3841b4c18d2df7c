import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { logPath } from '../../src/runtime/services.ts';
import { deliverable, sh } from '../support/evidence.ts';
import { client, lb, port, viaForward } from '../support/checks.ts';

const gw = nodeOf('gateway');

function dnatPackets(listing: string): number {
  const line = listing.split('\n').find((l) => l.includes(`${topology.tag}:dnat-${port} `) || l.includes(`${topology.tag}:dnat-${port} */`));
  return Number(line?.trim().split(/\s+/)[0] ?? NaN);
}

describe(`1.4 port forwarding: host ${port} -> ${lb.name} ${lb.ip}:${lb.port}`, () => {
  it(`the external client reaches nginx through the host's uplink address :${port}`, async () => {
    deliverable('1.4-external-client');
    const r = await viaForward.externalClient();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('OK\n');
  });

  it('the traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80, seen in the counters and in the nginx log', async () => {
    deliverable('1.4-traffic-flow');
    const listing = `iptables -t nat -L PREROUTING -v -n -x`;
    const before = dnatPackets((await sh(listing)).stdout);
    const r = await sh(`ip netns exec ${client.name} curl -sS -m 5 -o /dev/null -w '%{remote_ip}:%{remote_port} -> HTTP %{http_code}\\n' http://${topology.outside.bridge.ip}:${port}/health`);
    expect(r.stdout.trim()).toBe(`${topology.outside.bridge.ip}:${port} -> HTTP 200`);
    const after = dnatPackets((await sh(listing)).stdout);
    expect(after).toBeGreaterThan(before);
    const log = await sh(`tail -n 3 ${logPath('nginx-access')}`);
    // nginx saw the external client's own address: DNAT rewrote only the destination.
    expect(log.stdout).toMatch(new RegExp(`^${client.ip.replaceAll('.', '\\.')} - - .*"GET /health`, 'm'));
  });

  it('the host reaches it through localhost, 127.0.0.1 and its uplink address', async () => {
    deliverable('1.4-external-client');
    for (const r of [await viaForward.localhost(), await viaForward.loopback(), await viaForward.uplinkAddress()]) {
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('OK\n');
    }
  });

  it(`hairpin: ${gw.name} and ${lb.name} itself reach it through a host address :${port}`, async () => {
    for (const from of [gw.name, lb.name]) {
      const r = await viaForward.hairpin(from);
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('OK\n');
    }
  });

  it('iptables -t nat -L -v -n shows the MASQUERADE and DNAT rules with their tags', async () => {
    deliverable('1.4-nat-rules');
    const r = await sh('iptables -t nat -L -v -n');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`MASQUERADE .* ${topology.app.subnet.replace('.', '\\.')} .*${topology.tag}:egress-masquerade`));
    expect(r.stdout).toMatch(new RegExp(`DNAT .*tcp dpt:${port} .*${topology.tag}:dnat-${port} \\*/ to:${lb.ip.replaceAll('.', '\\.')}:${lb.port}`));
  });
});
