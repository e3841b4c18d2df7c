import { describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { namespaces } from '../../src/grader/contract.ts';
import { decide, explain, parseSave } from '../../src/grader/netfilter.ts';
import { failures, masqueradeProbes } from '../../src/grader/rules.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { hostAddress, internet, internetTcp, nsCommand, ping } from '../support/checks.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { ecomnetExtras, outside, uplinkDev } from '../support/live.ts';
import { platformInfo } from '../support/platform.ts';

const product = contractNs('product-service');
const backend = await detectBackend();

describe('1.3 NAT for internet access (our simulated internet)', () => {
  it(`product-service reaches the internet host ${internet.ip} (the seed's ping -c 3), masqueraded, with ip_forward on`, async () => {
    deliverable('1.3-internet');
    const fwd = await recordedShell('sysctl net.ipv4.ip_forward');
    expect(fwd.stdout.trim()).toBe('net.ipv4.ip_forward = 1');
    const route = await recordedShell(nsCommand(product.name, 'ip route show default'));
    expect(route.stdout, 'a default route leads out of the namespace').toMatch(/^default via /m);
    const r = await ping(product.name, internet.ip, 3);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const seen = await internetTcp(product.name);
    expect(seen.exitCode, seen.stderr).toBe(0);
    if (seen.stdout.trim() === hostAddress) return;
    // The internet host saw the namespace's own address: the MASQUERADE names only the host's real
    // uplink (-o eth0), where verify sends nothing. Then the rule is judged, as the evidence says.
    const saved = await recordedShell(`${backend.save} -t nat`);
    const real = masqueradeProbes(outside).filter((p) => uplinkDev && p.packet.out === uplinkDev && p.wanted === 'MASQUERADE');
    expect(real.length, `the internet host saw ${seen.stdout.trim()}, not the host's ${hostAddress}, and there is no real uplink to judge the rule by`).toBeGreaterThan(0);
    expect(failures(parseSave(saved.stdout), real), `judged by the rule: the namespaces are masqueraded out of the real uplink ${uplinkDev}`).toEqual([]);
  });

  it.runIf(ecomnetExtras('1.3 every namespace')).each(namespaces)('$name: ping and TCP reach the internet host, which sees the host uplink address, never $ip', async (n) => {
    const p = await ping(n.name, internet.ip);
    expect(p.exitCode, p.stdout + p.stderr).toBe(0);
    const seen = await internetTcp(n.name);
    expect(seen.exitCode, seen.stderr).toBe(0);
    expect(seen.stdout.trim()).toBe(hostAddress);
    expect(seen.stdout).not.toContain(n.ip);
  });

  it.runIf(ecomnetExtras('1.3 guard'))('while tests run, FORWARD rejects a new connection from any namespace out of the real uplink before anything accepts it', async (ctx) => {
    const uplink = platformInfo().uplinkDev;
    if (!uplink) {
      const reason = 'this host has no default route, so there is no real uplink to guard';
      console.log(`skipped: ${reason}`);
      ctx.skip(reason);
    }
    const saved = await recordedShell(`${backend.save} -t filter`);
    const rs = parseSave(saved.stdout);
    expect(topology.app.nodes.length).toBeGreaterThan(0);
    for (const n of topology.app.nodes) {
      const d = decide(rs, 'filter', 'FORWARD', { in: topology.app.bridge.name, out: uplink, src: n.ip, dst: internet.ip, proto: 'tcp', dport: internet.port, ctstate: ['NEW'] });
      expect(d.target, `${n.name}: ${explain(d)}`).toBe('REJECT');
    }
  });
});
