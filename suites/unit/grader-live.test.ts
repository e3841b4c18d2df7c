import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bridge, namespaces } from '../../src/grader/contract.ts';
import { diagramFindings, liveDiagramMermaid, liveDiagramSvg } from '../../src/grader/live-diagram.ts';
import { ipSections, parseSockets, splitSections } from '../../src/grader/discover.ts';
import { appBridge, listener, nsLink, postgresAt, redisAt } from '../../src/grader/find.ts';
import { judgeRules } from '../../src/grader/judge.ts';
import type { HostModel, Link } from '../../src/grader/model.ts';
import { RED } from '../../src/util/svg-kit.ts';
import { esc } from '../../src/util/text.ts';

/** discover() on a host running `ecomnet up` (native data layer, Docker engine with no containers); timestamps and counters trimmed. */
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;

/** A copy of the fixture with one thing broken, as a person breaking the live host would. */
function broken(change: (m: HostModel) => void): HostModel {
  const m = structuredClone(fixture);
  change(m);
  return m;
}

const nsNamed = (m: HostModel, name: string) => m.namespaces.find((n) => n.name === name)!;
const linkNamed = (links: Link[], name: string) => links.find((l) => l.name === name)!;

/** The SVG's `<g>` elements that mention `text`, each with its class and content. */
const groupsWith = (svg: string, text: string) => svg.split('<g ').filter((g) => g.includes(text));
/** The veth line whose bridge end is `name`. */
const vethLine = (svg: string, name: string) => groupsWith(svg, name).filter((g) => g.startsWith('class="veth'));

describe('discover parsing', () => {
  it('reads ss listeners: address without brackets or device, port, first process', () => {
    const out = [
      'tcp LISTEN 0 511 10.0.0.10:80 0.0.0.0:* users:(("nginx",pid=2898,fd=5),("nginx",pid=2897,fd=5))',
      'tcp LISTEN 0 4096 [::]:5432 [::]:*',
      'udp UNCONN 0 0 10.0.0.1%br-app:53 0.0.0.0:* users:(("dnsmasq",pid=7,fd=4))',
    ].join('\n');
    expect(parseSockets(out)).toEqual([
      { proto: 'tcp', address: '10.0.0.10', port: 80, pid: 2898, process: 'nginx' },
      { proto: 'tcp', address: '::', port: 5432 },
      { proto: 'udp', address: '10.0.0.1', port: 53, pid: 7, process: 'dnsmasq' },
    ]);
  });

  it('cuts the per-namespace script output back into its sections, a failed read empty', () => {
    const s = splitSections('--ecomnet-grader--ip\n[{"ifindex":1}]\n--ecomnet-grader--sockets\n--ecomnet-grader--pids\n12\n13\n');
    expect(s).toEqual({ ip: '[{"ifindex":1}]\n', sockets: '', pids: '12\n13\n' });
  });

  it("tells the ip batch's lists apart by what they hold, whichever command printed nothing", () => {
    const out = '[{"ifindex":1,"ifname":"lo"}]\n[]\n[{"nsid":0,"name":"nginx-lb"}]\n';
    expect(ipSections(out)).toEqual({ links: [{ ifindex: 1, ifname: 'lo' }], routes: [], ids: [{ nsid: 0, name: 'nginx-lb' }] });
  });
});

describe('find', () => {
  it('finds the bridge the namespaces hang on, with its address and ports', () => {
    const br = appBridge(fixture)!;
    expect(br).toMatchObject({ name: bridge.name, up: true, addresses: [{ ip: bridge.ip, prefix: bridge.prefix }] });
    expect(br.ports).toHaveLength(namespaces.length);
  });

  it('finds the bridge whatever its name', () => {
    const m = broken((m) => {
      for (const l of m.host.links) {
        if (l.name === bridge.name) l.name = 'br-lab';
        if (l.master === bridge.name) l.master = 'br-lab';
      }
    });
    expect(appBridge(m)?.name).toBe('br-lab');
    expect(diagramFindings(m)).toEqual([]);
  });

  it("gives each namespace's interface on the subnet and its listener", () => {
    for (const n of namespaces) {
      expect(nsLink(fixture, n.name)?.addresses).toContainEqual({ ip: n.ip, prefix: bridge.prefix });
      expect(listener(fixture, n.name, n.port)).toBeDefined();
    }
    expect(listener(fixture, 'api-gateway', 9999)).toBeUndefined();
  });

  it('places the data layer: its namespace, a container publishing on the bridge address, a host listener, or nowhere', () => {
    expect(postgresAt(fixture)).toEqual({ where: 'namespace', address: '10.0.0.60', port: 5432, by: 'postgres' });
    expect(redisAt(fixture)).toEqual({ where: 'namespace', address: '10.0.0.50', port: 6379, by: 'redis-server' });
    const noPostgres = (m: HostModel) => {
      nsNamed(m, 'postgres-db').listeners = [];
    };
    const container = broken((m) => {
      noPostgres(m);
      m.containers = [{ id: 'c1', name: 'ecomnet-postgres', image: 'postgres:15', running: true, ports: [{ containerPort: 5432, hostIp: bridge.ip, hostPort: 5432 }] }];
    });
    expect(postgresAt(container)).toEqual({ where: 'container', address: bridge.ip, port: 5432, by: 'ecomnet-postgres' });
    expect(diagramFindings(container)).toEqual([]);
    const host = broken((m) => {
      noPostgres(m);
      m.host.listeners.push({ proto: 'tcp', address: '0.0.0.0', port: 5432, pid: 9, process: 'postgres' });
    });
    expect(postgresAt(host)).toEqual({ where: 'host', address: bridge.ip, port: 5432, by: 'postgres' });
    const nowhere = broken(noPostgres);
    expect(postgresAt(nowhere)).toBeUndefined();
    // Phase 2's data layer is a grey note on the diagram, not a fault of task 1.2's network.
    expect(diagramFindings(nowhere)).toEqual([]);
    expect(liveDiagramSvg(nowhere)).toContain('nothing on :5432 yet');
  });

  it("holds the seed's three rules by their effect, through the chains they live in", () => {
    expect(Object.values(judgeRules(fixture).rules).map((r) => [r.id, r.holds, r.main.decision.path.join(' > ')])).toEqual([
      ['masquerade', true, 'POSTROUTING > ECOMNET-POSTROUTING'],
      ['dnat', true, 'PREROUTING > ECOMNET-PREROUTING'],
      ['forward', true, 'FORWARD > DOCKER-USER > ECOMNET-FORWARD'],
    ]);
  });
});

describe('live diagram', () => {
  it('draws the fixture with every namespace, veth, the bridge and the rules, and nothing red', () => {
    expect(diagramFindings(fixture)).toEqual([]);
    const svg = liveDiagramSvg(fixture);
    const mermaid = liveDiagramMermaid(fixture);
    for (const n of namespaces) {
      for (const text of [svg, mermaid]) {
        expect(text).toContain(n.name);
        expect(text).toContain(`${n.ip}/${bridge.prefix}`);
        expect(text).toContain(`:${n.port}`);
      }
      expect(svg).toContain(nsLink(fixture, n.name)!.name);
    }
    expect(svg).toContain(`${bridge.name} ${bridge.ip}/${bridge.prefix}`);
    expect(svg).toContain('tcp dport 8080 → DNAT 10.0.0.10:80');
    expect(svg).toContain('-s 10.0.0.0/16 ! -o br-app → MASQUERADE');
    expect(svg).toContain('data: PostgreSQL in namespace postgres-db');
    expect(svg.match(/data-node="/g)).toHaveLength(namespaces.length);
    // The legend's swatch is the only red.
    expect(svg.split(RED)).toHaveLength(2);
    expect(svg).not.toContain('fault');
    expect(mermaid).not.toMatch(/^ {2}(class|linkStyle) /m);
  });

  const cases: { what: string; change: (m: HostModel) => void; finding: string; red: (svg: string) => string[]; mermaid: RegExp }[] = [
    {
      what: "a veth's host end taken off the bridge",
      change: (m) => {
        delete linkNamed(m.host.links, 'veth-api-br').master;
      },
      finding: 'api-gateway veth: not on br-app (veth-api-br has no master)',
      red: (svg) => vethLine(svg, 'veth-api-br'),
      mermaid: /^ {2}linkStyle 1 stroke:#dc2626/m,
    },
    {
      what: 'a namespace with the wrong address',
      change: (m) => {
        linkNamed(nsNamed(m, 'nginx-lb').links, 'veth-nginx').addresses = [{ ip: '10.0.0.11', prefix: 16 }];
      },
      finding: 'nginx-lb: wants 10.0.0.10/16 (veth-nginx has 10.0.0.11/16)',
      red: (svg) => groupsWith(svg, 'data-node="nginx-lb"'),
      mermaid: /^ {2}class nginx_lb fault$/m,
    },
    {
      what: 'a namespace missing',
      change: (m) => {
        m.namespaces = m.namespaces.filter((n) => n.name !== 'redis-cache');
        m.host.links = m.host.links.filter((l) => l.name !== 'veth-redis-br');
      },
      finding: 'redis-cache: namespace missing',
      red: (svg) => groupsWith(svg, 'data-node="redis-cache"'),
      mermaid: /^ {2}class redis_cache fault$/m,
    },
    {
      what: "a veth's host end down",
      change: (m) => {
        Object.assign(linkNamed(m.host.links, 'veth-pg-br'), { up: false, operstate: 'DOWN' });
      },
      finding: 'postgres-db veth: down (veth-pg-br not set up, operstate DOWN)',
      red: (svg) => vethLine(svg, 'veth-pg-br'),
      mermaid: /^ {2}linkStyle 5 stroke:#dc2626/m,
    },
    {
      what: 'the bridge with the wrong address',
      change: (m) => {
        linkNamed(m.host.links, bridge.name).addresses = [{ ip: '10.0.0.254', prefix: 16 }];
      },
      finding: 'bridge br-app: wants 10.0.0.1/16 (has 10.0.0.254/16)',
      red: (svg) => groupsWith(svg, `data-bridge="${bridge.name}"`),
      mermaid: /^ {2}class br_app fault$/m,
    },
  ];

  it.each(cases)('draws $what red and lists it', ({ change, finding, red, mermaid }) => {
    const m = broken(change);
    expect(diagramFindings(m)).toEqual([finding]);
    const svg = liveDiagramSvg(m);
    const parts = red(svg);
    expect(parts.length).toBeGreaterThan(0);
    for (const g of parts) expect(g).toContain(RED);
    expect(svg).toContain(esc(`✗ ${finding}`));
    expect(liveDiagramMermaid(m)).toMatch(mermaid);
  });
  it("draws a rule that does not hold red and lists it, but it is 1.4's finding, not the diagram's (task 1.2)", () => {
    const m = broken((m) => {
      m.iptables.save = m.iptables.save
        .split('\n')
        .filter((l) => !l.includes('--dport 8080') || !l.startsWith('-A ECOMNET-PREROUTING'))
        .join('\n');
    });
    expect(diagramFindings(m)).toEqual([]);
    const svg = liveDiagramSvg(m);
    const box = groupsWith(svg, 'port forwarding (DNAT)');
    expect(box.length).toBeGreaterThan(0);
    for (const g of box) expect(g).toContain(RED);
    expect(svg).toContain(esc('✗ nat PREROUTING tcp dport 8080 → DNAT 10.0.0.10:80: not found (got ACCEPT by the policy (PREROUTING))'));
    expect(liveDiagramMermaid(m)).toMatch(/^ {2}linkStyle 8,9 stroke:#dc2626/m);
  });

  it("draws a service not listening as a grey note, not red: Phase 2 is not the diagram's", () => {
    const m = broken((m) => {
      nsNamed(m, 'order-service').listeners = [];
    });
    expect(diagramFindings(m)).toEqual([]);
    const svg = liveDiagramSvg(m);
    const node = groupsWith(svg, 'data-node="order-service"');
    expect(node.length).toBeGreaterThan(0);
    expect(node.join('')).toContain('nothing on :5000 yet');
    for (const g of node) expect(g).not.toContain(RED);
    expect(liveDiagramMermaid(m)).not.toMatch(/^ {2}class .*order_service/m);
  });
});
