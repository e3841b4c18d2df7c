import { describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { peerName } from '../../src/topology/validate.ts';
import { prefixOf } from '../../src/topology/ipv4.ts';
import { diagramMermaid } from '../../src/report/diagram.ts';
import { deliverable, record, sh } from '../support/evidence.ts';

const br = topology.app.bridge;
const prefix = prefixOf(topology.app.subnet);

describe('1.2 virtual bridge network', () => {
  it(`${br.name} is up with ${br.ip}/${prefix} and the six host-side veths are its ports`, async () => {
    deliverable('1.2-bridge');
    const addr = await sh(`ip -br addr show ${br.name}`);
    expect(addr.stdout).toMatch(new RegExp(`^${br.name}\\s+UP\\s+${br.ip.replaceAll('.', '\\.')}/${prefix}`));
    const ports = await sh(`ip -br link show master ${br.name}`);
    const names = ports.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]!.split('@')[0]);
    expect(names.sort()).toEqual(topology.app.nodes.map((n) => peerName(n.veth)).sort());
    for (const line of ports.stdout.split('\n').filter(Boolean)) expect(line).toMatch(/\sUP\s/);
    await sh(`bridge link show master ${br.name}`);
  });

  it('ip link show type veth lists each host-side peer', async () => {
    deliverable('1.2-veth');
    const r = await sh('ip link show type veth');
    for (const n of [...topology.app.nodes, ...topology.outside.nodes]) expect(r.stdout).toContain(`${peerName(n.veth)}@`);
  });

  it.each(topology.app.nodes)('$name: address $ip, lo up, default route via the bridge', async (n) => {
    deliverable('1.2-bridge');
    const addr = await sh(`ip -n ${n.name} -br addr show ${n.veth}`);
    expect(addr.stdout).toMatch(new RegExp(`^${n.veth}@\\S+\\s+UP\\s+${n.ip.replaceAll('.', '\\.')}/${prefix}`));
    const lo = await sh(`ip -n ${n.name} link show lo`);
    expect(lo.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    const route = await sh(`ip -n ${n.name} route show default`);
    expect(route.stdout.trim()).toBe(`default via ${br.ip} dev ${n.veth}`);
  });

  it('the network diagram is drawn from the live setup: every namespace, address and veth is there', async () => {
    deliverable('1.2-diagram');
    const at = new Date().toISOString();
    const mermaid = diagramMermaid(topology);
    record({ command: 'ecomnet diagram', stdout: mermaid, stderr: '', exitCode: 0, durationMs: 0, at });
    const live = await sh('ip -br -4 addr show; for ns in $(ip netns list | cut -d" " -f1); do echo "== $ns"; ip -n "$ns" -br -4 addr show; done');
    for (const n of [...topology.app.nodes, ...topology.outside.nodes]) {
      expect(live.stdout).toContain(n.ip);
      expect(mermaid).toContain(n.name);
      expect(mermaid).toContain(n.ip);
    }
    expect(mermaid).toContain(br.name);
  });
});
