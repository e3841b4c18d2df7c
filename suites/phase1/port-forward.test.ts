import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { escapeRegExp } from '../../src/text.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { client, lb, outside, port, viaForward } from '../support/checks.ts';
import { decide, explain, parseSave } from '../support/netfilter.ts';
import { nginx, rules } from '../support/seed.ts';
import { dnatProbes } from '../support/seed-rules.ts';
import { runDir } from '../support/platform.ts';

const gw = nodeOf('gateway');

/** The rule that DNATs the external client's connection to host:8080, found by its effect, with its live counters. */
async function dnatRule() {
  const saved = await recordedShell(`${(await detectBackend()).save} -c -t nat`);
  const probe = dnatProbes(outside)[0]!;
  const d = decide(parseSave(saved.stdout), probe.table, probe.chain, probe.packet);
  expect(probe.holds(d), explain(d)).toBe(true);
  return d.rule!;
}

describe(`1.4 port forwarding: host ${port} -> ${lb.name} ${lb.ip}:${lb.port}`, () => {
  it(`the external client reaches nginx through the host's uplink address :${port}`, async () => {
    deliverable('1.4-external-client');
    const r = await viaForward.externalClient();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(nginx.health);
  });

  it("the traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80, seen in the DNAT rule's counters and in the nginx log", async () => {
    deliverable('1.4-traffic-flow');
    const before = await dnatRule();
    const r = await recordedShell(
      `ip netns exec ${client.name} curl -sS -m 5 -o /dev/null -w '%{remote_ip}:%{remote_port} -> HTTP %{http_code}\\n' http://${topology.outside.bridge.ip}:${port}/health`,
    );
    expect(r.stdout.trim()).toBe(`${topology.outside.bridge.ip}:${port} -> HTTP 200`);
    const after = await dnatRule();
    expect(after.line).toBe(before.line);
    expect(after.counters!.packets).toBeGreaterThan(before.counters!.packets);
    const log = await recordedShell(`tail -n 3 ${runDir.log('nginx-access')}`);
    // nginx saw the external client's own address: DNAT rewrote only the destination.
    expect(log.stdout).toMatch(new RegExp(`^${escapeRegExp(client.ip)} - - .*"GET /health`, 'm'));
  });

  it('the host reaches it through localhost, 127.0.0.1 and its uplink address', async () => {
    deliverable('1.4-external-client');
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

  it("iptables -t nat -L -v -n (the seed's command) lists its MASQUERADE and DNAT rules", async () => {
    deliverable('1.4-nat-rules');
    const r = await recordedShell(`${(await detectBackend()).iptables} -t nat -L -v -n`);
    expect(r.exitCode).toBe(0);
    const { masquerade: m, dnat: d } = rules;
    // Columns: pkts bytes target prot opt in out source destination [matches]; prot is a name or a number by iptables version.
    expect(r.stdout).toMatch(new RegExp(`^\\s*\\S+\\s+\\S+\\s+MASQUERADE\\s+(all|0)\\s+--\\s+\\*\\s+!${m.notOut}\\s+${escapeRegExp(m.source)}\\s+0\\.0\\.0\\.0/0(\\s|$)`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(`^\\s*\\S+\\s+\\S+\\s+DNAT\\s+(${d.proto}|6)\\s+--\\s+\\*\\s+\\*\\s+0\\.0\\.0\\.0/0\\s+0\\.0\\.0\\.0/0\\s+${d.proto} dpt:${d.dport} .*to:${escapeRegExp(d.to)}\\s*$`, 'm'),
    );
  });
});
