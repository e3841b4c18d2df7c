import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { internet, internetTcp, ping } from '../support/checks.ts';
import { decide, explain, parseSave } from '../support/netfilter.ts';
import { platformInfo } from '../support/platform.ts';

const product = nodeOf('product');
const uplinkIp = topology.outside.bridge.ip;

describe('1.3 NAT for internet access (our simulated internet)', () => {
  it(`product-service reaches the internet host ${internet.ip} (the seed's ping -c 3), with ip_forward on`, async () => {
    deliverable('1.3-internet');
    const fwd = await recordedShell('sysctl net.ipv4.ip_forward');
    expect(fwd.stdout.trim()).toBe('net.ipv4.ip_forward = 1');
    const r = await ping(product.name, internet.ip, 3);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    const seen = await internetTcp(product.name);
    expect(seen.stdout.trim()).toBe(uplinkIp);
  });

  it.each(topology.app.nodes)('$name: ping and TCP reach the internet host, which sees the host uplink address, never $ip', async (n) => {
    deliverable('1.3-internet');
    const p = await ping(n.name, internet.ip);
    expect(p.exitCode, p.stdout + p.stderr).toBe(0);
    const seen = await internetTcp(n.name);
    expect(seen.exitCode, seen.stderr).toBe(0);
    expect(seen.stdout.trim()).toBe(uplinkIp);
    expect(seen.stdout).not.toContain(n.ip);
  });

  it('while tests run, FORWARD rejects a new connection from any namespace out of the real uplink before anything accepts it', async (ctx) => {
    const uplink = platformInfo().uplinkDev;
    if (!uplink) {
      const reason = 'this host has no default route, so there is no real uplink to guard';
      console.log(`skipped: ${reason}`);
      ctx.skip(reason);
    }
    const saved = await recordedShell(`${(await detectBackend()).save} -t filter`);
    const rs = parseSave(saved.stdout);
    expect(topology.app.nodes.length).toBeGreaterThan(0);
    for (const n of topology.app.nodes) {
      const d = decide(rs, 'filter', 'FORWARD', { in: topology.app.bridge.name, out: uplink, src: n.ip, dst: internet.ip, proto: 'tcp', dport: internet.port, ctstate: ['NEW'] });
      expect(d.target, `${n.name}: ${explain(d)}`).toBe('REJECT');
    }
  });
});
