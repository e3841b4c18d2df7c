import { describe, expect, it } from 'vitest';
import { nodeOf, nodeNamed, publishedAt, topology } from '../../src/topology/default.ts';
import { decide, explain, optionOf, parseSave, type Packet } from '../../src/grader/netfilter.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { allowedBy, CONNTRACK_ACCOUNTING, IPV6_OFF } from '../../src/plan/policy.ts';
import { planScript } from '../../src/plan/script.ts';
import { parseTopology } from '../../src/topology/parse.ts';
import type { DataMode, NodeSpec, Policy } from '../../src/topology/types.ts';
import { TopologyError } from '../../src/topology/validate.ts';
import { NEIGHBOUR } from '../support/exposure.ts';
import { restored } from '../support/restored.ts';

const facts: HostFacts = { uplinkDev: 'eth0', dockerUser: true, sysctl: {}, routes: [] };
const plan = (policy?: Policy) => buildPlan(topology, facts, { guard: false, ...(policy ? { policy } : {}) });
const br = topology.app.bridge.name;
const served = topology.app.nodes.filter((n) => n.port !== undefined);

/** A namespace's filter table as our restore leaves it (a fresh namespace: INPUT ACCEPT, nothing else). */
function nsRuleset(ns: string, policy?: Policy) {
  const f = plan(policy).firewalls.find((x) => x.ns === ns);
  return parseSave(restored('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT', f?.restore ?? ''));
}

const connect = (from: { ip: string }, to: NodeSpec, extra: Partial<Packet> = {}): Packet => ({ in: to.veth, src: from.ip, dst: to.ip, proto: 'tcp', dport: to.port, ctstate: ['NEW'], ...extra });

describe('east-west policy, deny by default: each namespace lets in only the declared flows', () => {
  it('is the default: every app namespace gets a chain, the outside segment none', () => {
    expect(plan().firewalls.map((f) => f.ns)).toEqual(topology.app.nodes.map((n) => n.name));
    expect(plan('deny').firewalls).toEqual(plan().firewalls);
  });

  it('nginx-lb reaches neither Redis nor PostgreSQL; their own clients do', () => {
    const pg = nodeOf('postgres');
    const redis = nodeOf('redis');
    const d = (from: NodeSpec, to: NodeSpec) => decide(nsRuleset(to.name), 'filter', 'INPUT', connect(from, to));
    expect(d(nodeOf('nginx'), pg)).toMatchObject({ target: 'REJECT' });
    expect(d(nodeOf('nginx'), redis)).toMatchObject({ target: 'REJECT' });
    expect(d(nodeOf('gateway'), pg)).toMatchObject({ target: 'REJECT' });
    expect(d(nodeOf('order'), pg)).toMatchObject({ target: 'ACCEPT' });
    expect(d(nodeOf('product'), redis)).toMatchObject({ target: 'ACCEPT' });
  });

  it('every source x destination x service port: the rules decide exactly what the flows say', () => {
    const table = served.flatMap((to) =>
      topology.app.nodes
        .filter((from) => from !== to)
        .map((from) => {
          const d = decide(nsRuleset(to.name), 'filter', 'INPUT', connect(from, to));
          return { pair: `${from.name} -> ${to.name}:${to.port}`, expected: allowedBy(topology, 'deny', from, to, to.port!) !== undefined, observed: d.target === 'ACCEPT', d: explain(d) };
        }),
    );
    expect(table).toHaveLength(30);
    expect(table.filter((c) => c.expected !== c.observed)).toEqual([]);
    // Five flows, and nginx-lb's port 80 open to all five others.
    expect(table.filter((c) => c.expected).map((c) => c.pair)).toHaveLength(5 + 5);
  });

  it("ICMP, loopback, the host, replies and the port forward's clients still pass; a port nothing declared does not", () => {
    const product = nodeOf('product');
    const rs = nsRuleset(product.name);
    const from = nodeOf('redis');
    expect(decide(rs, 'filter', 'INPUT', { ...connect(from, product), proto: 'icmp', dport: undefined }).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', connect(product, product, { in: 'lo', src: '127.0.0.1', dst: '127.0.0.1' })).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', connect({ ip: topology.app.bridge.ip }, product)).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', connect({ ip: topology.app.bridge.ip }, product, { dport: 22 })).target).toBe('REJECT');
    expect(decide(rs, 'filter', 'INPUT', connect(from, product, { ctstate: ['ESTABLISHED'] })).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', connect(nodeOf('gateway'), product, { dport: 22 })).target).toBe('REJECT');
    const nginx = nodeOf('nginx');
    expect(decide(nsRuleset(nginx.name), 'filter', 'INPUT', connect(nodeOf('client'), nginx)).target).toBe('ACCEPT');
  });

  it('--policy open is the seed flat network: no namespace chain, no published-port deny', () => {
    expect(plan('open').firewalls).toEqual([]);
    expect(plan('open').rules.filter((r) => r.id.endsWith('-deny') || r.id.includes('-from-'))).toEqual([]);
    expect(decide(nsRuleset(nodeOf('postgres').name, 'open'), 'filter', 'INPUT', connect(nodeOf('nginx'), nodeOf('postgres'))).target).toBe('ACCEPT');
    for (const from of topology.app.nodes) for (const to of served) expect(allowedBy(topology, 'open', from, to, to.port!)).toBeDefined();
  });

  it('a topology without flows has no policy', () => {
    const { flows: _, ...flat } = topology;
    expect(buildPlan(flat, facts, { guard: false }).firewalls).toEqual([]);
  });

  it('--dry-run shows each namespace chain as the command a person would type', () => {
    const script = planScript(plan());
    for (const n of topology.app.nodes) expect(script).toContain(`ip netns exec ${n.name} iptables-restore --noflush <<'EOF'`);
    expect(script).toContain(`-A ECOMNET-INPUT -s ${nodeOf('order').ip} -p tcp --dport ${nodeOf('postgres').port} -m comment --comment "ecomnet:flow-order-service" -j RETURN`);
    expect(planScript(plan('open'))).not.toContain('ip netns exec');
  });

  it('turns IPv6 off in each app namespace, where the IPv4 chain would not see it (link-local addresses on every veth), and conntrack accounting on (for ecomnet observe)', () => {
    for (const f of plan().firewalls) expect(f.sysctls).toEqual([...IPV6_OFF, CONNTRACK_ACCOUNTING]);
    expect(IPV6_OFF.map((s) => s.key)).toEqual(['net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6']);
    expect(planScript(plan())).toContain(`ip netns exec ${nodeOf('postgres').name} sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`);
  });
});

describe("the host's own INPUT from the bridge: a namespace is not trusted by the host, nor the host by it", () => {
  const bridge = topology.app.bridge;
  const HOST = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT';
  const hostRuleset = (policy?: Policy, data: DataMode = 'native') => parseSave(restored(HOST, buildPlan(topology, facts, { guard: false, data, ...(policy ? { policy } : {}) }).restore));
  const toHost = (from: NodeSpec, extra: Partial<Packet> = {}): Packet => ({ in: br, src: from.ip, dst: bridge.ip, proto: 'tcp', dport: 22, ctstate: ['NEW'], ...extra });

  it('the host reaches each namespace on its service port (readiness, the observer, verify), on no other', () => {
    for (const n of served) {
      const rs = nsRuleset(n.name);
      expect(decide(rs, 'filter', 'INPUT', connect(bridge, n)).target, `host -> ${n.name}:${n.port}`).toBe('ACCEPT');
      const other = decide(rs, 'filter', 'INPUT', connect(bridge, n, { dport: n.port! + 1 }));
      expect(other.target, `host -> ${n.name}:${n.port! + 1}: ${explain(other)}`).toBe('REJECT');
    }
  });

  it.each(['deny', 'open'] as const)('--policy %s: nothing from the bridge reaches 127/8 but replies and DNATed connections (route_localnet, CVE-2020-8558)', (policy) => {
    const rs = hostRuleset(policy);
    const probe = toHost(nodeOf('product'), { dst: '127.0.0.1', dport: 6379 });
    const d = decide(rs, 'filter', 'INPUT', probe);
    expect(d.target, explain(d)).toBe('DROP');
    expect(optionOf(d.rule, '--comment')).toBe('ecomnet:localnet-guard');
    expect(decide(rs, 'filter', 'INPUT', { ...probe, proto: 'udp' }).target).toBe('DROP');
    // The host's curl localhost:8080, masqueraded out of the bridge: its replies come back for 127.0.0.1.
    expect(decide(rs, 'filter', 'INPUT', { ...probe, src: nodeOf('nginx').ip, ctstate: ['ESTABLISHED'] }).target).toBe('ACCEPT');
    // A DNAT the host's owner made to 127/8 is theirs: not the guard's to drop (under deny, no namespace opens it either).
    const dnated = decide(rs, 'filter', 'INPUT', { ...probe, ctstate: ['NEW', 'DNAT'], origDst: bridge.ip, origDport: 53 });
    expect(dnated.target, explain(dnated)).toBe(policy === 'open' ? 'ACCEPT' : 'REJECT');
    // Loopback itself is the host's own business.
    expect(decide(rs, 'filter', 'INPUT', { ...probe, in: 'lo', src: '127.0.0.1' }).target).toBe('ACCEPT');
  });

  it("--policy deny: a namespace opens nothing on the host's addresses; replies and ICMP pass, other interfaces are untouched", () => {
    const rs = hostRuleset('deny');
    for (const n of topology.app.nodes) {
      const d = decide(rs, 'filter', 'INPUT', toHost(n));
      expect(d.target, `${n.name} -> host:22: ${explain(d)}`).toBe('REJECT');
    }
    const product = nodeOf('product');
    expect(decide(rs, 'filter', 'INPUT', toHost(product, { dst: '192.0.2.1', dstType: 'LOCAL' })).target).toBe('REJECT');
    expect(decide(rs, 'filter', 'INPUT', toHost(product, { ctstate: ['ESTABLISHED'] })).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', toHost(product, { proto: 'icmp', dport: undefined })).target).toBe('ACCEPT');
    expect(decide(rs, 'filter', 'INPUT', toHost(product, { in: 'eth0', src: NEIGHBOUR })).target).toBe('ACCEPT');
  });

  it("containers mode, under deny: a namespace reaches the data layer published on the host's address only by its flows (should Docker's proxy answer there)", () => {
    const pg = publishedAt('postgres');
    const at = (from: NodeSpec, data: DataMode) => decide(hostRuleset('deny', data), 'filter', 'INPUT', toHost(from, { dst: pg.host, dport: pg.port })).target;
    expect(at(nodeOf('order'), 'containers')).toBe('ACCEPT');
    expect(at(nodeOf('nginx'), 'containers')).toBe('REJECT');
    expect(at(nodeOf('order'), 'native')).toBe('REJECT');
  });

  it('--policy open: a namespace reaches the host as in the seed', () => {
    const rs = hostRuleset('open');
    for (const n of topology.app.nodes) expect(decide(rs, 'filter', 'INPUT', toHost(n)).target).toBe('ACCEPT');
  });
});

describe('containers mode: the published data layer, behind Docker DNAT, in our FORWARD chain', () => {
  const pg = publishedAt('postgres');
  const redis = publishedAt('redis');
  // Docker as on Debian's docker.io and Ubuntu runners: DNAT of the published address for any
  // local destination from any interface but docker0; FORWARD's DOCKER-USER first, its own accepts after.
  const DOCKER_HOST = `*nat
:PREROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A DOCKER -d ${pg.host}/32 ! -i docker0 -p tcp -m tcp --dport ${pg.port} -j DNAT --to-destination 172.17.0.3:5432
-A DOCKER -d ${redis.host}/32 ! -i docker0 -p tcp -m tcp --dport ${redis.port} -j DNAT --to-destination 172.17.0.4:6379
COMMIT
*filter
:FORWARD DROP [0:0]
:DOCKER-USER - [0:0]
:DOCKER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT
-A DOCKER -d 172.17.0.4/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 6379 -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT`;
  const rs = (policy?: Policy) => parseSave(restored(DOCKER_HOST, buildPlan(topology, facts, { guard: false, ...(policy ? { policy } : {}) }).restore));
  const toPublished = (inIface: string, src: string, at: { host: string; port: number }, container: string, ctstate = ['NEW', 'DNAT']): Packet => ({
    in: inIface,
    out: 'docker0',
    src,
    dst: container,
    proto: 'tcp',
    dport: at.port,
    ctstate,
    origDst: at.host,
    origDport: at.port,
  });

  it('Docker DNATs a connection to the published address from any interface (what the rules below rely on)', () => {
    const d = decide(rs(), 'nat', 'PREROUTING', { in: 'eth0', src: NEIGHBOUR, dst: pg.host, proto: 'tcp', dport: pg.port, ctstate: ['NEW'], dstType: 'LOCAL' });
    expect(d.target, explain(d)).toBe('DNAT');
  });

  it('a connection arriving on another interface is dropped, open policy or not', () => {
    for (const p of ['deny', 'open'] as const) {
      const d = decide(rs(p), 'filter', 'FORWARD', toPublished('eth0', NEIGHBOUR, pg, '172.17.0.3'));
      expect(d.target, explain(d)).toBe('DROP');
      expect(optionOf(d.rule, '--comment')).toBe('ecomnet:published-postgres-ingress');
      expect(decide(rs(p), 'filter', 'FORWARD', toPublished('br-uplink', nodeOf('client').ip, redis, '172.17.0.4')).target).toBe('DROP');
    }
  });

  it('only order-service reaches PostgreSQL and only product-service Redis; under open, every namespace does', () => {
    const from = (c: 'nginx' | 'gateway' | 'product' | 'order', at: typeof pg, container: string, p?: Policy) =>
      decide(rs(p), 'filter', 'FORWARD', toPublished(br, nodeOf(c).ip, at, container)).target;
    expect(from('order', pg, '172.17.0.3')).toBe('ACCEPT');
    expect(from('product', redis, '172.17.0.4')).toBe('ACCEPT');
    for (const c of ['nginx', 'gateway', 'product'] as const) expect(from(c, pg, '172.17.0.3')).toBe('REJECT');
    for (const c of ['nginx', 'gateway', 'order'] as const) expect(from(c, redis, '172.17.0.4')).toBe('REJECT');
    for (const c of ['nginx', 'gateway', 'product', 'order'] as const) expect(from(c, pg, '172.17.0.3', 'open')).toBe('ACCEPT');
  });

  it('replies to an allowed connection are never taken for a new one', () => {
    const reply: Packet = { in: 'docker0', out: br, src: '172.17.0.3', dst: nodeOf('order').ip, proto: 'tcp', ctstate: ['ESTABLISHED', 'DNAT'], origDst: pg.host, origDport: pg.port };
    expect(decide(rs(), 'filter', 'FORWARD', reply).target).toBe('ACCEPT');
  });
});

describe('flows are data, checked like the rest of the topology', () => {
  it('a flow naming an unknown namespace, a portless destination or itself is refused, all at once', () => {
    const bad = {
      ...topology,
      flows: [
        { from: 'nginx-lb', to: 'nowhere', why: 'x' },
        { from: 'ext-client', to: 'api-gateway', why: 'x' },
        { from: 'api-gateway', to: 'api-gateway', why: 'x' },
      ],
    };
    expect(() => buildPlan(bad, facts, { guard: false })).toThrow(TopologyError);
    try {
      buildPlan(bad, facts, { guard: false });
    } catch (e) {
      expect((e as TopologyError).problems).toEqual([
        'flow nginx-lb -> nowhere: "nowhere" is not a namespace of the app segment',
        'flow ext-client -> api-gateway: "ext-client" is not a namespace of the app segment',
        'flow api-gateway -> api-gateway: a namespace always reaches itself (loopback); a flow joins two',
      ]);
    }
  });

  it('JSON topologies: flows are read with their fields checked', () => {
    const json = JSON.parse(JSON.stringify(topology));
    expect(parseTopology(json).flows).toHaveLength(topology.flows!.length);
    json.flows[0].port = 'eighty';
    json.flows[1].via = 'x';
    expect(() => parseTopology(json)).toThrow(/flows\[0\]\.port: "eighty" is not a port[\s\S]*flows\[1\]\.via: no such field/);
    expect(nodeNamed(topology.flows![0]!.to).port).toBeDefined();
  });
});
