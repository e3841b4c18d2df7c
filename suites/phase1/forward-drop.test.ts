import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { priv } from '../../src/host/exec.ts';
import { recordedShell } from '../support/evidence.ts';
import { internetTcp, pingMatrix, viaForward } from '../support/checks.ts';
import { namespaces } from '../../src/grader/contract.ts';

/**
 * Hosts with Docker (every GitHub runner) set the FORWARD policy to DROP and load
 * br_netfilter. The same checks as the main suites must hold there: this suite sets the
 * policy, runs them, and puts the policy back as it found it.
 */
describe('with the FORWARD policy DROP, as on a host with Docker', () => {
  let restore = '';
  beforeAll(async () => {
    const b = await detectBackend();
    const policy = /^-P FORWARD (\w+)/m.exec((await priv([b.iptables, '-S', 'FORWARD'])).stdout)?.[1] ?? 'ACCEPT';
    restore = policy;
    await priv([b.iptables, '-P', 'FORWARD', 'DROP']);
  });
  afterAll(async () => {
    const b = await detectBackend();
    if (restore) await priv([b.iptables, '-P', 'FORWARD', restore]);
  });

  it('the policy is DROP and br_netfilter state is shown', async () => {
    const r = await recordedShell('iptables -S FORWARD | head -1; cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo "br_netfilter not loaded"');
    expect(r.stdout).toMatch(/^-P FORWARD DROP/);
  });

  it('every namespace still pings every other', async () => {
    const m = await pingMatrix();
    expect(m.cells).toHaveLength(namespaces.length * (namespaces.length - 1));
    expect(m.cells.filter((c) => !c.received)).toEqual([]);
  });

  it.each(topology.app.nodes)('$name still reaches the simulated internet, masqueraded', async (n) => {
    const r = await internetTcp(n.name);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(topology.outside.bridge.ip);
  });

  it('the port forward still works for the external client, the host and hairpin', async () => {
    for (const r of [await viaForward.externalClient(), await viaForward.localhost(), await viaForward.loopback(), await viaForward.hairpin(topology.app.nodes[1]!.name)]) {
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('OK\n');
    }
  });
});
