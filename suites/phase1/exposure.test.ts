import { describe, expect, it } from 'vitest';
import { hostPort, nodeOf, publishedAt } from '../../src/topology/default.ts';
import { decide, explain, optionOf, parseSave, type Ruleset } from '../../src/grader/netfilter.ts';
import { failures, forwardProbes } from '../../src/grader/judge.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { client, nsCommand } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { exposureProbes } from '../support/exposure.ts';
import { appBr, outside, uplinkDev } from '../support/live.ts';
import { platformInfo } from '../support/platform.ts';

/**
 * ecomnet's hardening of FORWARD (not a seed deliverable), judged by the packet walker on the
 * live rule set: these tests send nothing, least of all to a neighbour or a metadata service.
 */

const backend = await detectBackend();

/** The live rule set as `iptables-save` prints it, recorded as the evidence. */
async function saved(): Promise<Ruleset> {
  const r = await recordedShell(backend.save);
  expect(r.exitCode, r.stderr).toBe(0);
  return parseSave(r.stdout);
}

const { direct, forwarded, linkLocal } = exposureProbes(outside);
const from = uplinkDev ? `the simulated uplink or ${uplinkDev}` : 'the simulated uplink';

describe(`network exposure: what FORWARD lets into and out of ${appBr}, on the live rule set`, () => {
  it(`a new connection from ${from} reaches no service in ${appBr} directly, nginx-lb's included unless port-forwarded`, async () => {
    expect(direct.length).toBeGreaterThan(0);
    expect(failures(await saved(), direct)).toEqual([]);
  });

  it('the port forward, replies, traffic across the bridge and egress still pass', async () => {
    expect(failures(await saved(), [...forwarded, ...forwardProbes(outside)])).toEqual([]);
  });

  it('no namespace reaches a link-local address, where a cloud answers instance metadata with credentials', async () => {
    expect(failures(await saved(), linkLocal)).toEqual([]);
  });

  it(`nothing new arriving on ${appBr} reaches the host's 127.0.0.0/8, where route_localnet (for curl localhost:${hostPort()}) would let it (CVE-2020-8558)`, async () => {
    const rs = await saved();
    const probe = { in: appBr, src: nodeOf('product').ip, dst: '127.0.0.1', proto: 'tcp' as const, dport: nodeOf('redis').port, ctstate: ['NEW'] };
    for (const p of [probe, { ...probe, proto: 'udp' as const }]) {
      const d = decide(rs, 'filter', 'INPUT', p);
      expect(d.target, `${p.proto} ${p.src} -> ${p.dst}:${p.dport}: ${explain(d)}`).toBe('DROP');
    }
  });

  it.runIf(platformInfo().data === 'containers')(`containers mode: order-service reaches PostgreSQL where Docker publishes it on ${appBr}'s address, out of ${appBr}`, async () => {
    const rs = await saved();
    const pg = publishedAt('postgres');
    const packet = { in: appBr, src: nodeOf('order').ip, proto: 'tcp' as const, dport: pg.port };
    const dnat = decide(rs, 'nat', 'PREROUTING', { ...packet, dst: pg.host, ctstate: ['NEW'], dstType: 'LOCAL' });
    expect(dnat.target, `Docker's DNAT of ${pg.host}:${pg.port}: ${explain(dnat)}`).toBe('DNAT');
    const to = optionOf(dnat.rule, '--to-destination') ?? '';
    expect(to).toMatch(/^[\d.]+:\d+$/);
    const [ip, port] = to.split(':');
    // testcontainers leaves the containers on Docker's default bridge.
    const d = decide(rs, 'filter', 'FORWARD', { ...packet, out: 'docker0', dst: ip!, dport: Number(port), ctstate: ['NEW', 'DNAT'], origDst: pg.host, origDport: pg.port });
    expect(d.target, explain(d)).toBe('ACCEPT');
  });
});

describe.runIf(platformInfo().data === 'containers')(`containers mode: the data layer Docker publishes on ${appBr}'s address`, () => {
  it(`answers no connection arriving on another interface: ${client.name}, routed through the host, reaches neither port`, async () => {
    for (const c of ['postgres', 'redis'] as const) {
      const at = publishedAt(c);
      const r = await recordedShell(nsCommand(client.name, `nc -z -w 2 ${at.host} ${at.port}`));
      expect(r.exitCode, `${client.name} -> ${at.host}:${at.port}: ${r.stdout}${r.stderr}`).not.toBe(0);
    }
  });

  it("still answers the namespace each one serves (the seed's nc -zv from order-service)", async () => {
    const pg = publishedAt('postgres');
    const r = await recordedShell(nsCommand(nodeOf('order').name, `nc -z -w 2 ${pg.host} ${pg.port}`));
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
