import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { namespaces } from '../../src/grader/contract.ts';
import { decide, explain, parseSave } from '../../src/grader/netfilter.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { hostAddress, internet, internetTcp, ping } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { uplinkDev } from '../support/live.ts';

const backend = await detectBackend();

describe('1.3 NAT for internet access (our simulated internet)', () => {
  judged(checksOf('1.3-internet'));

  it.each(namespaces)('$name: ping and TCP reach the internet host, which sees the host uplink address, never $ip', async (n) => {
    const p = await ping(n.name, internet.ip);
    expect(p.exitCode, p.stdout + p.stderr).toBe(0);
    const seen = await internetTcp(n.name);
    expect(seen.exitCode, seen.stderr).toBe(0);
    expect(seen.stdout.trim()).toBe(hostAddress);
    expect(seen.stdout).not.toContain(n.ip);
  });

  it('while tests run, FORWARD rejects a new connection from any namespace out of the real uplink before anything accepts it', async (ctx) => {
    // Found on the live host as the grader finds it, not read back from what the platform recorded.
    const uplink = uplinkDev;
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
