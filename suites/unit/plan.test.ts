import { describe, expect, it } from 'vitest';
import { nodeOf, publishedAt, topology } from '../../src/topology/default.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { planScript } from '../../src/plan/script.ts';
import { deletionText, ownedLines } from '../../src/host/iptables.ts';
import type { Topology } from '../../src/topology/types.ts';
import { TopologyError } from '../../src/topology/validate.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';
import { topology as containers } from '../../fixtures/containers-topology.ts';
import { decide, explain, optionOf, parseSave, type Decision, type Ruleset } from '../../src/grader/netfilter.ts';
import { dnatProbes, failures, forwardProbes, masqueradeProbes, type Outside } from '../../src/grader/judge.ts';
import { exposureProbes, guardedOutside, METADATA, NEIGHBOUR } from '../support/exposure.ts';
import { restored } from '../support/restored.ts';

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

  it('enters our FORWARD chain from DOCKER-USER when Docker is there, and has the guard only when asked', () => {
    const docker = buildPlan(topology, { ...facts, dockerUser: true }, { guard: true });
    expect(docker.jumps.find((j) => j.table === 'filter')).toMatchObject({ from: 'DOCKER-USER', chain: 'ECOMNET-FORWARD', insert: true });
    expect(buildPlan(topology, facts, { guard: true }).jumps.find((j) => j.table === 'filter')?.from).toBe('FORWARD');
    const filter = docker.rules.filter((r) => r.chain === 'ECOMNET-FORWARD');
    expect(docker.rules.filter((r) => r.table === 'filter' && r.chain !== 'ECOMNET-FORWARD').every((r) => r.chain === 'ECOMNET-INPUT')).toBe(true);
    expect(filter[0]!.id).toBe('uplink-guard');
    // The rejects and the drops before every accept, so no accept can let their packets through
    // (a published port's accept sits among its own rules, which match only connections to it).
    expect(filter.map((r) => r.id)).toEqual([
      'uplink-guard',
      'link-local-reject',
      'bridge-ingress',
      'published-postgres-ingress',
      'published-postgres-from-order-service',
      'published-postgres-deny',
      'published-redis-ingress',
      'published-redis-from-product-service',
      'published-redis-deny',
      'forward-nginx-lb',
      'bridge-internal',
      'bridge-egress',
      'bridge-replies',
    ]);
    expect(buildPlan(topology, facts, { guard: false }).rules.map((r) => r.id)).not.toContain('uplink-guard');
    // The host's INPUT: the 127/8 guard before anything, the deny last.
    expect(docker.rules.filter((r) => r.chain === 'ECOMNET-INPUT').map((r) => r.id)).toEqual(['localnet-guard', 'host-replies', 'host-icmp', 'host-deny']);
    expect(buildPlan(topology, { ...facts, uplinkDev: undefined }, { guard: true }).rules.map((r) => r.id)).not.toContain('uplink-guard');
  });

  it('tags every rule and jump and explains it', () => {
    const plan = buildPlan(topology, facts, { guard: true });
    for (const r of plan.rules) {
      expect(r.why.length).toBeGreaterThan(20);
      expect(plan.restore).toContain(`--comment "${topology.tag}:${r.id}"`);
    }
    for (const j of plan.jumps) {
      expect(j.why.length).toBeGreaterThan(20);
      expect(plan.restore).toContain(`${j.from} -m comment --comment "${topology.tag}:jump" -j ${j.chain}\n`);
    }
    expect(plan.rules.filter((r) => r.seed).map((r) => r.id)).toEqual(['egress-masquerade', 'dnat-8080', 'forward-nginx-lb']);
  });
});

describe('our own iptables chains (no root needed)', () => {
  const chainsOf = (t: Topology) => buildPlan(t, facts, { guard: true }).jumps.map((j) => j.chain);

  it('are named from the tag, so no two platforms share one', () => {
    expect(chainsOf(topology)).toEqual(['ECOMNET-PREROUTING', 'ECOMNET-OUTPUT', 'ECOMNET-POSTROUTING', 'ECOMNET-FORWARD', 'ECOMNET-INPUT']);
    expect(chainsOf(alt)).toEqual(['ECOMNET-HP-PREROUTING', 'ECOMNET-HP-OUTPUT', 'ECOMNET-HP-POSTROUTING', 'ECOMNET-HP-FORWARD', 'ECOMNET-HP-INPUT']);
    const all = [topology, alt, containers].flatMap(chainsOf);
    expect(new Set(all).size).toBe(all.length);
    const plan = buildPlan(topology, facts, { guard: true });
    for (const r of plan.rules)
      expect(
        plan.jumps.map((j) => j.chain),
        r.id,
      ).toContain(r.chain);
  });

  it('are created and filled by the restore text, and each built-in chain gets exactly one jump', () => {
    const lines = buildPlan(topology, facts, { guard: true }).restore.split('\n');
    for (const c of chainsOf(topology))
      expect(
        lines.filter((l) => l === `:${c} - [0:0]`),
        c,
      ).toHaveLength(1);
    const intoBuiltIn = lines.filter((l) => /^-[AI] /.test(l) && !l.split(' ')[1]!.startsWith('ECOMNET-'));
    expect(intoBuiltIn.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['-I PREROUTING', '-I OUTPUT', '-A POSTROUTING', '-I FORWARD', '-I INPUT']);
    expect(intoBuiltIn.every((l) => l.includes('--comment "ecomnet:jump" -j ECOMNET-'))).toBe(true);
  });

  it('a tag too long for an iptables chain name is rejected, saying which chain and the limit', () => {
    const named = (tag: string) => () => buildPlan({ ...topology, tag }, facts, { guard: true });
    expect(named('ecomnet-16-chars')).not.toThrow();
    expect(named('ecomnet-17-charss')).toThrow(TopologyError);
    expect(named('ecomnet-17-charss')).toThrow(
      'tag "ecomnet-17-charss" is too long: it names the iptables chain ECOMNET-17-CHARSS-POSTROUTING (29 characters, iptables allows at most 28); use a tag of at most 16 characters',
    );
  });

  /**
   * A Docker host that publishes 8080 itself and accepts the bridge's traffic before anything of
   * ours could; and, as in containers mode, PostgreSQL published on the bridge address.
   */
  const DOCKER_HOST = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -d 10.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
COMMIT
*filter
:FORWARD DROP [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -i br-app -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT`;
  /** Egress judged out of the outside segment where the guard closes eth0; without the guard, out of eth0 as verify judges a host. */
  const outside = guardedOutside(facts.uplinkDev);
  const seedOutside = (guard: boolean): Outside => (guard ? outside : { ...outside, uplink: facts.uplinkDev! });
  const seedProbes = (o: Outside) => [...masqueradeProbes(o), ...dnatProbes(o), ...forwardProbes(o)];

  it("through their jumps, do what the seed's rules do on a Docker host: our DNAT wins for host addresses, and the guard comes before any accept", () => {
    const rs = parseSave(restored(DOCKER_HOST, buildPlan(topology, { ...facts, dockerUser: true }, { guard: true }).restore));
    expect(failures(rs, seedProbes(outside))).toEqual([]);
    const leaving = decide(rs, 'filter', 'FORWARD', {
      in: topology.app.bridge.name,
      out: facts.uplinkDev,
      src: nodeOf('product').ip,
      dst: outside.internet,
      proto: 'tcp',
      dport: outside.internetPort,
      ctstate: ['NEW'],
    });
    expect(leaving).toMatchObject({ target: 'REJECT', path: ['FORWARD', 'DOCKER-USER', 'ECOMNET-FORWARD'] });
  });

  describe('keep the lab unexposed, on a host without Docker (FORWARD policy ACCEPT) as on one with it', () => {
    /** A host without Docker, as the seed's: FORWARD lets everything through by its policy. */
    const PLAIN_HOST = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:FORWARD ACCEPT [0:0]
COMMIT`;
    const hosts = [
      { name: 'without Docker', text: PLAIN_HOST, dockerUser: false, path: ['FORWARD', 'ECOMNET-FORWARD'] },
      { name: 'with Docker', text: DOCKER_HOST, dockerUser: true, path: ['FORWARD', 'DOCKER-USER', 'ECOMNET-FORWARD'] },
    ];
    const ruleset = (h: (typeof hosts)[number], guard: boolean) => parseSave(restored(h.text, buildPlan(topology, { ...facts, dockerUser: h.dockerUser }, { guard }).restore));
    const { direct, forwarded, linkLocal } = exposureProbes(outside);
    const by = (d: Decision) => optionOf(d.rule, '--comment');
    const br = topology.app.bridge.name;
    const toMetadata = (rs: Ruleset, out: string) =>
      decide(rs, 'filter', 'FORWARD', { in: br, out, src: nodeOf('product').ip, dst: METADATA.ip, proto: 'tcp', dport: METADATA.port, ctstate: ['NEW'] });

    it.each(hosts.flatMap((h) => [false, true].map((guard) => ({ ...h, guard }))))(
      '$name, guard $guard: from outside only the port forward and replies enter br-app; the bridge and egress pass; link-local is rejected',
      (h) => {
        expect(direct.length + forwarded.length + linkLocal.length).toBeGreaterThan(20);
        expect(failures(ruleset(h, h.guard), [...seedProbes(seedOutside(h.guard)), ...direct, ...forwarded, ...linkLocal])).toEqual([]);
      },
    );

    it.each(hosts)('$name: our rules decide, in our chain, before the host could', (h) => {
      const rs = ruleset(h, false);
      const neighbour = (dst: string, dport: number, ctstate: string[]) => decide(rs, 'filter', 'FORWARD', { in: facts.uplinkDev, out: br, src: NEIGHBOUR, dst, proto: 'tcp', dport, ctstate });
      for (const c of ['redis', 'gateway'] as const) {
        const n = nodeOf(c);
        const d = neighbour(n.ip, n.port!, ['NEW']);
        expect(d, `${c}: ${explain(d)}`).toMatchObject({ target: 'DROP', path: h.path });
        expect(by(d)).toBe(`${topology.tag}:bridge-ingress`);
      }
      const nginx = nodeOf('nginx');
      expect(by(neighbour(nginx.ip, nginx.port!, ['NEW', 'DNAT']))).toBe(`${topology.tag}:forward-nginx-lb`);
      const metadata = toMetadata(rs, facts.uplinkDev!);
      expect(metadata).toMatchObject({ target: 'REJECT', path: h.path });
      expect(by(metadata)).toBe(`${topology.tag}:link-local-reject`);
    });

    it('with the guard, it still rejects first what would leave by the real uplink; link-local elsewhere is ours to reject', () => {
      const rs = ruleset(hosts[0]!, true);
      expect(by(toMetadata(rs, facts.uplinkDev!))).toBe(`${topology.tag}:uplink-guard`);
      expect(by(toMetadata(rs, topology.outside.bridge.name))).toBe(`${topology.tag}:link-local-reject`);
    });

    it('containers mode: order-service still reaches the PostgreSQL Docker publishes on the bridge address (br-app -> docker0)', () => {
      const rs = ruleset(hosts[1]!, true);
      const pg = publishedAt('postgres');
      const from = { in: br, src: nodeOf('order').ip, proto: 'tcp' as const, dport: pg.port };
      const dnat = decide(rs, 'nat', 'PREROUTING', { ...from, dst: pg.host, ctstate: ['NEW'], dstType: 'LOCAL' });
      const to = optionOf(dnat.rule, '--to-destination');
      expect(to, explain(dnat)).toBe('172.17.0.3:5432');
      const d = decide(rs, 'filter', 'FORWARD', { ...from, out: 'docker0', dst: to!.split(':')[0]!, ctstate: ['NEW', 'DNAT'], origDst: pg.host, origDport: pg.port });
      expect(d, explain(d)).toMatchObject({ target: 'ACCEPT' });
      expect(by(d)).toBe(`${topology.tag}:published-postgres-from-order-service`);
    });
  });
});

describe('teardown text (no root needed)', () => {
  const saved = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ECOMNET-PREROUTING - [0:0]',
    ':ECOMNET-HP-PREROUTING - [0:0]',
    '-A PREROUTING -m comment --comment "ecomnet-hp:jump" -j ECOMNET-HP-PREROUTING',
    '-A PREROUTING -m comment --comment "ecomnet:jump" -j ECOMNET-PREROUTING',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    '-A ECOMNET-PREROUTING -p tcp -m tcp --dport 8080 -m comment --comment "ecomnet:dnat-8080" -j DNAT --to-destination 10.0.0.10:80',
    '-A ECOMNET-HP-PREROUTING -p tcp -m tcp --dport 8088 -m comment --comment "ecomnet-hp:dnat-8088" -j DNAT --to-destination 10.201.0.10:80',
    'COMMIT',
    '*filter',
    ':FORWARD DROP [0:0]',
    ':ECOMNET-FORWARD - [0:0]',
    // Applied twice: both jumps go.
    '-A FORWARD -m comment --comment ecomnet:jump -j ECOMNET-FORWARD',
    '-A FORWARD -m comment --comment ecomnet:jump -j ECOMNET-FORWARD',
    '-A FORWARD -j DOCKER-USER',
    '-A INPUT -m comment --comment "someone else: ecomnet:lookalike" -j ACCEPT',
    '-A ECOMNET-FORWARD -i br-app -o br-app -m comment --comment "ecomnet:bridge-internal" -j ACCEPT',
    'COMMIT',
  ].join('\n');

  /** As a version before owned chains left it: our rules straight in built-in chains. */
  const legacy = [
    '*nat',
    '-A PREROUTING -p tcp -m tcp --dport 8080 -m comment --comment ecomnet:dnat-8080 -j DNAT --to-destination 10.0.0.10:80',
    '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    '-A POSTROUTING -s 10.0.0.0/16 ! -o br-app -m comment --comment "ecomnet:egress-masquerade" -j MASQUERADE',
    'COMMIT',
    '*filter',
    '-A FORWARD -m comment --comment "ecomnet-hp:bridge-egress" -j ACCEPT',
    'COMMIT',
  ].join('\n');

  it('removes our jumps, then flushes and deletes our chains, touching nothing of another tag or untagged', () => {
    expect(deletionText(saved, 'ecomnet')).toBe(
      [
        '*nat',
        '-D PREROUTING -m comment --comment "ecomnet:jump" -j ECOMNET-PREROUTING',
        '-F ECOMNET-PREROUTING',
        '-X ECOMNET-PREROUTING',
        'COMMIT',
        '*filter',
        '-D FORWARD -m comment --comment ecomnet:jump -j ECOMNET-FORWARD',
        '-D FORWARD -m comment --comment ecomnet:jump -j ECOMNET-FORWARD',
        '-F ECOMNET-FORWARD',
        '-X ECOMNET-FORWARD',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(ownedLines(saved, 'ecomnet-hp')).toEqual([
      'nat chain ECOMNET-HP-PREROUTING',
      '-A PREROUTING -m comment --comment "ecomnet-hp:jump" -j ECOMNET-HP-PREROUTING',
      '-A ECOMNET-HP-PREROUTING -p tcp -m tcp --dport 8088 -m comment --comment "ecomnet-hp:dnat-8088" -j DNAT --to-destination 10.201.0.10:80',
    ]);
  });

  it('still removes rules an older version tagged straight into built-in chains, quoted or not', () => {
    expect(deletionText(legacy, 'ecomnet')).toBe(
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
    expect(deletionText(saved, 'ecomnet-other')).toBe('');
    expect(deletionText(legacy, 'ecomnet-ct')).toBe('');
  });
});
