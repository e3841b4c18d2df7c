import { describe, expect, it } from 'vitest';
import { bridge, namespaces } from '../../src/grader/contract.ts';
import { diagramFindings } from '../../src/grader/diagram.ts';
import { nsLink } from '../../src/grader/find.ts';
import { contains, parseCidr, parseIp } from '../../src/topology/ipv4.ts';
import { escapeRegExp } from '../../src/text.ts';
import { ecomnet } from '../support/cli.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { appBr, model } from '../support/live.ts';

/** A namespace's interface on the lab network, and its host-side peer, as the host has them (names are the learner's). */
function vethOf(ns: string) {
  const link = nsLink(model, ns);
  expect(link, `${ns} has an interface on the lab network`).toBeDefined();
  return { inside: link!.name, peer: link!.peer?.namespace === undefined ? link!.peer?.name : undefined };
}

describe('1.2 virtual bridge network', () => {
  it(`the bridge the ${namespaces.length} namespaces hang on (the seed's ${bridge.name}) is up with ${bridge.ip} over their addresses, and each one's peer is its port`, async () => {
    deliverable('1.2-bridge');
    const addr = await recordedShell(`ip -br addr show ${appBr}`);
    const m = new RegExp(`^${escapeRegExp(appBr)}\\s+UP\\s+(?:\\S+\\s+)*?${escapeRegExp(bridge.ip)}/(\\d+)\\b`).exec(addr.stdout);
    expect(m, addr.stdout).not.toBeNull();
    const net = parseCidr(`${bridge.ip}/${m![1]}`)!;
    for (const n of namespaces) expect(contains(net, parseIp(n.ip)!), `${n.ip} is on ${appBr}'s network`).toBe(true);
    const ports = await recordedShell(`ip -br link show master ${appBr}`);
    const up = new Map(
      ports.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.split(/\s+/)[0]!.split('@')[0]!, /\sUP\s/.test(l)]),
    );
    for (const n of namespaces) {
      const { peer } = vethOf(n.name);
      expect(peer, `${n.name}'s veth peer is on the host`).toBeDefined();
      expect(up.get(peer!), `${n.name}'s peer ${peer} is an UP port of ${appBr}`).toBe(true);
    }
    await recordedShell(`bridge link show master ${appBr}`);
  });

  it('ip link show type veth lists a host-side peer for each namespace', async () => {
    deliverable('1.2-veth');
    const host = await recordedShell('ip link show type veth');
    for (const n of namespaces) expect(host.stdout, n.name).toContain(`${vethOf(n.name).peer}@`);
  });

  it.each(namespaces)('$name: its veth is up with $ip, lo is up, the default route goes via the bridge', async (n) => {
    deliverable('1.2-veth');
    const { inside } = vethOf(n.name);
    const addr = await recordedShell(`ip -n ${n.name} -br addr show ${inside}`);
    expect(addr.stdout).toMatch(new RegExp(`^${escapeRegExp(inside)}@\\S+\\s+UP\\s+(?:\\S+\\s+)*?${escapeRegExp(n.ip)}/\\d+\\b`));
    const lo = await recordedShell(`ip -n ${n.name} link show lo`);
    expect(lo.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    const route = await recordedShell(`ip -n ${n.name} route show default`);
    expect(route.stdout).toMatch(new RegExp(`^default via ${escapeRegExp(bridge.ip)} dev ${escapeRegExp(inside)}\\b`, 'm'));
  });

  it('ecomnet diagram --live draws the host as it is, and nothing in it differs from the seed', async () => {
    deliverable('1.2-diagram');
    const diagram = await ecomnet(['diagram', '--live']);
    expect(diagram.exitCode, diagram.stderr).toBe(0);
    const drawn = new Map([...diagram.stdout.matchAll(/\["([^"<]+)<br\/>([\d.]+)/g)].map((m) => [m[1]!, m[2]!]));
    for (const n of namespaces) expect(drawn.get(n.name), n.name).toBe(n.ip);
    expect(diagramFindings(model)).toEqual([]);
  });
});
