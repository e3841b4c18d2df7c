import { describe, expect, it } from 'vitest';
import { nodeNamed, topology } from '../../fixtures/topology.ts';
import { peerName } from '../../src/topology/validate.ts';
import { escapeRegExp } from '../../src/text.ts';
import { ecomnet } from '../support/cli.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { bridge, namespaces, nginxVeth } from '../support/seed.ts';

/** Our name for a seed namespace's inside veth (the seed spells out only nginx-lb's). */
const vethOf = (ns: string) => nodeNamed(ns).veth;

describe('1.2 virtual bridge network', () => {
  it(`${bridge.name} is up with ${bridge.ip}/${bridge.prefix} and a host-side veth of each of the ${namespaces.length} namespaces is its port`, async () => {
    deliverable('1.2-bridge');
    const addr = await recordedShell(`ip -br addr show ${bridge.name}`);
    expect(addr.stdout).toMatch(new RegExp(`^${bridge.name}\\s+UP\\s+${escapeRegExp(bridge.ip)}/${bridge.prefix}\\b`));
    const ports = await recordedShell(`ip -br link show master ${bridge.name}`);
    const lines = ports.stdout.split('\n').filter(Boolean);
    const names = lines.map((l) => l.split(/\s+/)[0]!.split('@')[0]);
    expect(names).toHaveLength(namespaces.length);
    expect(names).toContain(nginxVeth.onBridge);
    expect(names.sort()).toEqual(namespaces.map((n) => peerName(vethOf(n.name))).sort());
    for (const line of lines) expect(line).toMatch(/\sUP\s/);
    await recordedShell(`bridge link show master ${bridge.name}`);
  });

  it(`ip link show type veth lists each host-side peer; ${nginxVeth.inside} is inside ${namespaces[0].name}`, async () => {
    deliverable('1.2-veth');
    const host = await recordedShell('ip link show type veth');
    expect(host.stdout).toContain(`${nginxVeth.onBridge}@`);
    for (const n of [...topology.app.nodes, ...topology.outside.nodes]) expect(host.stdout).toContain(`${peerName(n.veth)}@`);
    const inside = await recordedShell(`ip -n ${namespaces[0].name} link show type veth`);
    expect(inside.stdout).toMatch(new RegExp(`^\\d+: ${nginxVeth.inside}@`, 'm'));
  });

  it.each(namespaces)('$name: address $ip, lo up, default route via the bridge', async (n) => {
    deliverable('1.2-bridge');
    const veth = vethOf(n.name);
    const addr = await recordedShell(`ip -n ${n.name} -br addr show ${veth}`);
    expect(addr.stdout).toMatch(new RegExp(`^${veth}@\\S+\\s+UP\\s+${escapeRegExp(n.ip)}/${bridge.prefix}\\b`));
    const lo = await recordedShell(`ip -n ${n.name} link show lo`);
    expect(lo.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    const route = await recordedShell(`ip -n ${n.name} route show default`);
    expect(route.stdout.trim()).toBe(`default via ${bridge.ip} dev ${veth}`);
  });

  it('ecomnet diagram draws the live setup: each namespace with the address it really has, and br-app with its own', async () => {
    deliverable('1.2-diagram');
    const diagram = await ecomnet(['diagram']);
    expect(diagram.exitCode, diagram.stderr).toBe(0);
    // Mermaid node labels: ["name<br/>address[:port]<br/>role"].
    const drawn = new Map([...diagram.stdout.matchAll(/\["([^"<]+)<br\/>([\d.]+)/g)].map((m) => [m[1]!, m[2]!]));
    for (const n of namespaces) expect(drawn.get(n.name), n.name).toBe(n.ip);
    expect(diagram.stdout).toContain(`"${bridge.name} ${bridge.ip}"`);
    const live = await recordedShell(`for ns in $(ip netns list | cut -d' ' -f1); do echo "$ns" $(ip -n "$ns" -br -4 addr show | awk '$1 != "lo" {print $3}'); done`);
    const addrs = new Map(
      live.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const [ns, ...a] = l.split(/\s+/);
          return [ns!, a.map((x) => x.split('/')[0])];
        }),
    );
    for (const [ns, ip] of drawn) expect(addrs.get(ns), `${ns} is drawn with ${ip}`).toContain(ip);
  });
});
