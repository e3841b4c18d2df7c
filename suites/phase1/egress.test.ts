import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { deliverable, sh } from '../support/evidence.ts';
import { internet, internetTcp, ping } from '../support/checks.ts';

const product = nodeOf('product');
const uplinkIp = topology.outside.bridge.ip;

describe('1.3 NAT for internet access (our simulated internet)', () => {
  it(`product-service reaches the internet host ${internet.ip} (the seed's ping -c 3)`, async () => {
    deliverable('1.3-internet');
    await sh('sysctl net.ipv4.ip_forward');
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

  it('while tests run, the guard rejects container traffic out of the real uplink, and it comes first', async () => {
    const info = inject('platform');
    if (!info.uplinkDev) {
      console.log('skip reason: this host has no default route, so there is no real uplink to guard');
      return;
    }
    const r = await sh('iptables-save -t filter');
    const ours = r.stdout.split('\n').filter((l) => l.includes(`${topology.tag}:`));
    expect(ours[0]).toContain(`${topology.tag}:uplink-guard`);
    expect(ours[0]).toContain(`-s ${topology.app.subnet} -o ${info.uplinkDev}`);
    expect(ours[0]).toContain('-j REJECT');
  });
});
