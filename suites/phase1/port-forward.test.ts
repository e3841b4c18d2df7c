import { describe, expect, it } from 'vitest';
import { nginx, rules } from '../../src/grader/contract.ts';
import { decide, explain, parseSave } from '../../src/grader/netfilter.ts';
import { dnatProbes } from '../../src/grader/rules.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { escapeRegExp } from '../../src/text.ts';
import { client, hostAddress, httpReply, port, viaForward } from '../support/checks.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { ecomnetExtras, outside } from '../support/live.ts';
import { runDir } from '../support/platform.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');
const backend = await detectBackend();

/** The rule that DNATs the external client's connection to host:8080, found by its effect, with its live counters. */
async function dnatRule() {
  const saved = await recordedShell(`${backend.save} -c -t nat`);
  const probe = dnatProbes(outside)[0]!;
  const d = decide(parseSave(saved.stdout), probe.table, probe.chain, probe.packet);
  expect(probe.holds(d), explain(d)).toBe(true);
  return d.rule!;
}

/** nginx answered (its Server header), with 200. */
function fromNginx(r: Awaited<ReturnType<typeof viaForward.externalClient>>) {
  expect(r.exitCode, r.stderr).toBe(0);
  const reply = httpReply(r);
  expect(reply.status, r.stdout).toBe(200);
  expect(reply.headers.get('server'), 'the answer comes from nginx').toMatch(/^nginx/);
  return reply;
}

describe(`1.4 port forwarding: host ${port} -> ${lb.name} ${lb.ip}:${lb.port}`, () => {
  // These two run side by side (a dropped forward costs one timeout): the second asserts only that
  // the counters grew and that its own answer came from nginx, which the first's request cannot change.
  it.concurrent(`the external client reaches nginx through the host's address :${port}`, async () => {
    deliverable('1.4-external-client');
    fromNginx(await viaForward.externalClient('/health', '-sS -i'));
  });

  it.concurrent('the traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80, seen in the DNAT rule counters and in the answer', async () => {
    deliverable('1.4-traffic-flow');
    const before = await dnatRule();
    const r = await viaForward.externalClient('/health', `-sS -i -w '\\n%{remote_ip}:%{remote_port}\\n'`);
    const reply = fromNginx(r);
    // The client spoke to the host's address; the host rewrote the destination to nginx-lb.
    expect(reply.body.trim().split('\n').at(-1)).toBe(`${hostAddress}:${port}`);
    const after = await dnatRule();
    expect(after.line).toBe(before.line);
    expect(after.counters!.packets).toBeGreaterThan(before.counters!.packets);
  });

  it.runIf(ecomnetExtras('1.4 nginx log'))("ecomnet's nginx logged the external client's own address: DNAT rewrote only the destination", async () => {
    await viaForward.externalClient();
    const log = await recordedShell(`tail -n 3 ${runDir.log('nginx-access')}`);
    expect(log.stdout).toMatch(new RegExp(`^${escapeRegExp(client.ip)} - - .*"GET /health`, 'm'));
  });

  it.runIf(ecomnetExtras('1.4 host clients'))('the host reaches it through localhost, 127.0.0.1 and its uplink address', async () => {
    for (const r of [await viaForward.localhost(), await viaForward.loopback(), await viaForward.uplinkAddress()]) {
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(nginx.health);
    }
  });

  it.runIf(ecomnetExtras('1.4 hairpin'))(`hairpin: ${gw.name} and ${lb.name} itself reach it through a host address :${port}`, async () => {
    for (const from of [gw.name, lb.name]) {
      const r = await viaForward.hairpin(from);
      expect(r.exitCode, `${r.command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(nginx.health);
    }
  });

  it("iptables -t nat -L -v -n (the seed's command) lists a MASQUERADE of its subnet and its DNAT", async () => {
    deliverable('1.4-nat-rules');
    const r = await recordedShell(`${backend.iptables} -t nat -L -v -n`);
    expect(r.exitCode).toBe(0);
    const { masquerade: m, dnat: d } = rules;
    // Columns: pkts bytes target prot opt in out source destination [matches]; in/out are the learner's.
    expect(r.stdout).toMatch(new RegExp(`^\\s*\\S+\\s+\\S+\\s+MASQUERADE\\s+\\S+\\s+\\S+\\s+\\S+\\s+\\S+\\s+${escapeRegExp(m.source)}\\s`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\s*\\S+\\s+\\S+\\s+DNAT\\s+.*${d.proto} dpt:${d.dport} .*to:${escapeRegExp(d.to)}\\s*$`, 'm'));
  });
});
