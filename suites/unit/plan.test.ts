import { describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { planScript } from '../../src/plan/script.ts';
import { restoreText } from '../../src/plan/rules.ts';
import { deletionText, taggedLines } from '../../src/host/iptables.ts';

const facts: HostFacts = { uplinkDev: 'eth0', dockerUser: false, sysctl: { 'net.ipv4.ip_forward': '0' }, routes: [] };

describe('plan for the six-node platform (no root needed)', () => {
  it('matches the golden script, command for command', async () => {
    await expect(planScript(buildPlan(topology, facts, { guard: true }))).toMatchFileSnapshot('golden/six-node.sh');
  });

  it('creates every namespace in one host batch before any per-namespace command', () => {
    const plan = buildPlan(topology, facts, { guard: false });
    const names = [...topology.app.nodes, ...topology.outside.nodes].map((n) => n.name);
    expect(plan.namespaces).toEqual(names);
    expect(plan.hostBatch.slice(0, names.length)).toEqual(names.map((n) => `netns add ${n}`));
    expect(plan.nsBatches.map((b) => b.ns)).toEqual(names);
    for (const b of plan.nsBatches) expect(b.lines).toContain('link set lo up');
  });

  it('records the ip_forward value found before, for down to restore', () => {
    const plan = buildPlan(topology, { ...facts, sysctl: { 'net.ipv4.ip_forward': '1' } }, { guard: false });
    expect(plan.sysctls.find((s) => s.key === 'net.ipv4.ip_forward')).toEqual({ key: 'net.ipv4.ip_forward', value: '1', before: '1' });
  });

  it('puts FORWARD accepts into DOCKER-USER when Docker is there, and the guard only when asked', () => {
    const docker = buildPlan(topology, { ...facts, dockerUser: true }, { guard: true });
    const filter = docker.rules.filter((r) => r.table === 'filter');
    expect(filter.every((r) => r.chain === 'DOCKER-USER' && r.insert)).toBe(true);
    expect(filter[0]!.id).toBe('uplink-guard');
    expect(buildPlan(topology, facts, { guard: false }).rules.map((r) => r.id)).not.toContain('uplink-guard');
    expect(buildPlan(topology, { ...facts, uplinkDev: undefined }, { guard: true }).rules.map((r) => r.id)).not.toContain('uplink-guard');
  });

  it('tags every rule and explains it', () => {
    const plan = buildPlan(topology, facts, { guard: true });
    for (const r of plan.rules) {
      expect(r.why.length).toBeGreaterThan(20);
      expect(plan.restore).toContain(`--comment "${topology.tag}:${r.id}"`);
    }
    expect(plan.rules.filter((r) => r.seed).map((r) => r.id)).toEqual(['egress-masquerade', 'dnat-8080', 'forward-nginx-lb']);
  });

  it('inserted rules keep their declared order at the top of the chain', () => {
    const plan = buildPlan(topology, facts, { guard: true });
    const inserted = plan.restore.split('\n').filter((l) => l.startsWith('-I FORWARD'));
    expect(inserted.map((l) => Number(l.split(' ')[2]))).toEqual(inserted.map((_, i) => i + 1));
  });
});

describe('teardown text (no root needed)', () => {
  const saved = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    '-A PREROUTING -p tcp -m tcp --dport 8080 -m comment --comment ecomnet:dnat-8080 -j DNAT --to-destination 10.0.0.10:80',
    '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    '-A POSTROUTING -s 10.0.0.0/16 ! -o br-app -m comment --comment "ecomnet:egress-masquerade" -j MASQUERADE',
    'COMMIT',
    '*filter',
    '-A FORWARD -m comment --comment "ecomnet-hp:bridge-egress" -j ACCEPT',
    '-A INPUT -m comment --comment "someone else: ecomnet:lookalike" -j ACCEPT',
    'COMMIT',
  ].join('\n');

  it('deletes exactly our tagged rules, quoted or not, and nothing else', () => {
    const text = deletionText(taggedLines(saved, 'ecomnet'));
    expect(text).toBe(
      [
        '*nat',
        '-D PREROUTING -p tcp -m tcp --dport 8080 -m comment --comment ecomnet:dnat-8080 -j DNAT --to-destination 10.0.0.10:80',
        '-D POSTROUTING -s 10.0.0.0/16 ! -o br-app -m comment --comment "ecomnet:egress-masquerade" -j MASQUERADE',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('is empty when nothing of ours is there', () => {
    expect(deletionText(taggedLines(saved, 'ecomnet-other'))).toBe('');
    expect(restoreText('ecomnet', [])).toBe('\n');
  });
});
