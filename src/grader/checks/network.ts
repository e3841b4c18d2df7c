/**
 * Phase 1's deliverables (tasks 1.1-1.4) as checks: what the seed asks for, looked at on the live
 * host with the commands its screenshots show. Names and addresses are the seed's (contract.ts);
 * the bridge, veth and uplink names are the learner's, read from the host.
 */
import { escapeRegExp } from '../../util/text.ts';
import { contains, parseCidr, parseIp } from '../../topology/ipv4.ts';
import { bridge, namespaces, rules } from '../contract.ts';
import { diagramFindings } from '../live-diagram.ts';
import { appBridge, contractNs, nsLink } from '../find.ts';
import { ruleFailures, walk } from '../judge.ts';
import { parseSave } from '../netfilter.ts';
import { bridgesOn, gatewayOn } from '../split.ts';
import { type Check, httpReply, Inconclusive, shellWord, type Trial } from './trial.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');
const product = contractNs('product-service');
const order = contractNs('order-service');
const port = rules.dnat.dport;

const appBr = (t: Trial) => appBridge(t.lab.model)?.name ?? bridge.name;

/** A namespace's interface on the lab network and its host-side peer, as the host has them (names are the learner's). */
function vethOf(t: Trial, ns: string): { inside: string; peer?: string } {
  const link = t.some(nsLink(t.lab.model, ns), `${ns} has no interface on the lab network`);
  return { inside: link.name, ...(link.peer && link.peer.namespace === undefined ? { peer: link.peer.name } : {}) };
}

const ping = (t: Trial, from: string, to: string, count = 2) => t.inNs(from, `ping -c ${count} -W 1 -i 0.2 ${to}`);

async function pings(t: Trial, from: string, tos: { name: string; ip: string }[]): Promise<void> {
  const done = await Promise.all(tos.map((to) => ping(t, from, to.ip)));
  done.forEach((r, i) => {
    t.succeeded(r, `${from} pings ${tos[i]!.name} ${tos[i]!.ip}`);
    t.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/, `${from} -> ${tos[i]!.name}`);
  });
}

/** The external client's request to the host's port, answered by nginx with 200 (its Server header). */
async function fromNginx(t: Trial, path: string, extra = '') {
  const v = t.lab.vantage;
  const r = await t.asClient(`curl -sS -i --connect-timeout 2 -m 5 ${extra}http://${v!.hostAddress}:${port}${path}`);
  t.succeeded(r, `the external client's request to ${v!.hostAddress}:${port}${path}`);
  const answer = httpReply(r);
  t.equal(answer.status, 200, `the status of ${path}`);
  t.match(answer.headers.get('server') ?? '', /^nginx/, 'the answer comes from nginx (its Server header)');
  return answer;
}

export const networkChecks: Check[] = [
  {
    id: '1.1-netns-list',
    deliverable: '1.1-netns-list',
    title: `ip netns list shows the seed's ${namespaces.length} service namespaces`,
    tools: ['ip'],
    async run(t) {
      // A lab split across hosts lists its namespaces on each: together they are the seed's.
      const listed = new Set<string>();
      for (const r of await Promise.all(t.hosts().map((h) => t.on(h, 'ip netns list')))) {
        t.succeeded(r, 'ip netns list');
        for (const l of r.stdout.split('\n')) listed.add(l.split(' ')[0]!);
      }
      const missing = namespaces.filter((n) => !listed.has(n.name)).map((n) => n.name);
      t.ok(!missing.length, `missing: ${missing.join(', ')}`);
    },
  },
  {
    id: '1.2-bridge',
    deliverable: '1.2-bridge',
    title: `the bridge the ${namespaces.length} namespaces hang on (the seed's ${bridge.name}) is up with ${bridge.ip} over their addresses, and each one's peer is its port`,
    tools: ['ip', 'bridge'],
    async run(t) {
      const br = appBr(t);
      const addr = await t.sh(`ip -br addr show ${shellWord(br)}`);
      const m = t.match(addr.stdout, new RegExp(`^${escapeRegExp(br)}\\s+UP\\s+(?:\\S+\\s+)*?${escapeRegExp(bridge.ip)}/(\\d+)\\b`), `${br} is UP with ${bridge.ip}`);
      const net = parseCidr(`${bridge.ip}/${m[1]}`)!;
      for (const n of namespaces) t.ok(contains(net, parseIp(n.ip)!), `${n.ip} is not on ${br}'s network ${bridge.ip}/${m[1]}`);
      // Each host's namespaces hang on its own bridge (the overlay joins them): each host lists its ports.
      const split = t.lab.split;
      const bridges = split ? split.hosts.map((h) => ({ host: h, names: bridgesOn(split, h) })) : [{ host: undefined, names: [br] }];
      const up = new Map<string, boolean>();
      for (const { host, names } of bridges) {
        for (const name of names) {
          const ports = await t.on(host, `ip -br link show master ${shellWord(name)}`);
          for (const l of ports.stdout.split('\n').filter(Boolean)) up.set(`${host?.name}/${l.split(/\s+/)[0]!.split('@')[0]!}`, /\sUP\s/.test(l));
          if (host && host !== split?.front) {
            const own = await t.on(host, `ip -br addr show ${shellWord(name)}`);
            t.match(own.stdout, new RegExp(`^${escapeRegExp(name)}\\s+UP\\s`), `${name} on ${host.name} is UP`);
          }
          await t.on(host, `bridge link show master ${shellWord(name)}`);
        }
      }
      for (const n of namespaces) {
        const peer = t.some(vethOf(t, n.name).peer, `${n.name}'s veth peer is not on the host`);
        const host = t.hostOf(n.name);
        t.ok(up.get(`${host?.name}/${peer}`), `${n.name}'s peer ${peer} is not an UP port of ${host ? `the bridge on ${host.name}` : br}`);
      }
    },
  },
  {
    id: '1.2-veth',
    deliverable: '1.2-veth',
    title: 'ip link show type veth lists a host-side peer for each namespace',
    tools: ['ip'],
    async run(t) {
      const hosts = t.hosts();
      const listed = await Promise.all(hosts.map((h) => t.on(h, 'ip link show type veth')));
      for (const n of namespaces) {
        const { peer } = vethOf(t, n.name);
        const on = listed[hosts.indexOf(t.hostOf(n.name))]?.stdout ?? '';
        t.ok(peer && on.includes(`${peer}@`), `no host-side peer of ${n.name}'s veth in \`ip link show type veth\``);
      }
    },
  },
  ...namespaces.map(
    (n): Check => ({
      id: `1.2-veth/${n.name}`,
      deliverable: '1.2-veth',
      title: `${n.name}: its veth is up with ${n.ip}, lo is up, the default route goes via the bridge`,
      tools: ['ip'],
      async run(t) {
        const { inside } = vethOf(t, n.name);
        const host = t.hostOf(n.name);
        // The bridge's address on the namespace's own host: the seed's, or on a split lab's other host its bridge's.
        const gateway = gatewayOn(t.lab.split, host);
        // One line, as a person would type it: its three answers in turn.
        const r = await t.on(host, `ip -n ${n.name} -br addr show ${shellWord(inside)}; ip -n ${n.name} link show lo; ip -n ${n.name} route show default`);
        t.match(r.stdout, new RegExp(`^${escapeRegExp(inside)}(@\\S+)?\\s+UP\\s+(?:\\S+\\s+)*?${escapeRegExp(n.ip)}/\\d+\\b`, 'm'), `${inside} in ${n.name} is UP with ${n.ip}`);
        t.match(r.stdout, /<LOOPBACK,UP,LOWER_UP>/, `lo in ${n.name} is up`);
        t.match(r.stdout, new RegExp(`^default via ${escapeRegExp(gateway)} dev ${escapeRegExp(inside)}\\b`, 'm'), `${n.name}'s default route via ${gateway}`);
      },
    }),
  ),
  {
    id: '1.2-diagram',
    deliverable: '1.2-diagram',
    title: "the live diagram, drawn from what the host holds, shows the seed's network: every namespace with its address and veth on the bridge",
    tools: ['ip'],
    async run(t) {
      // The evidence is what discovery read (recorded where the run gathered it); the picture is the report's.
      const findings = diagramFindings(t.lab.model, t.lab.judgement);
      t.ok(!findings.length, findings.join('; '));
    },
  },
  {
    id: '1.2-ping-nginx',
    deliverable: '1.2-ping-nginx',
    title: `${lb.name} pings ${gw.name} and ${product.name} (the seed's commands)`,
    tools: ['ip', 'ping'],
    run: (t) => pings(t, lb.name, [gw, product]),
  },
  {
    id: '1.2-ping-gateway',
    deliverable: '1.2-ping-gateway',
    title: `${gw.name} pings ${product.name} and ${order.name}`,
    tools: ['ip', 'ping'],
    run: (t) => pings(t, gw.name, [product, order]),
  },
  {
    id: '1.3-internet',
    deliverable: '1.3-internet',
    title: `${product.name} reaches the internet host (the seed's ping -c 3), masqueraded, with ip_forward on`,
    tools: ['ip', 'ping', 'curl', 'sysctl'],
    outside: true,
    async run(t) {
      const v = t.lab.vantage;
      if (!v) throw new Inconclusive(`no internet host: ${t.lab.noVantage ?? 'the grader could not stand outside this host'}`);
      const fwd = await t.on(t.hostOf(product.name), 'sysctl net.ipv4.ip_forward');
      t.equal(fwd.stdout.trim(), 'net.ipv4.ip_forward = 1', 'IP forwarding');
      const route = await t.inNs(product.name, 'ip route show default');
      t.match(route.stdout, /^default via /m, `a default route out of ${product.name}`);
      const r = await ping(t, product.name, v.internet, 3);
      t.succeeded(r, `${product.name} pings the internet host ${v.internet}`);
      const seen = await t.inNs(product.name, `curl -sS --connect-timeout 2 -m 5 http://${v.internet}:${v.internetPort}/`);
      t.succeeded(seen, `${product.name} reaches the internet host over TCP`);
      const source = seen.stdout.trim();
      if (source === v.hostAddress) return;
      const j = t.lab.judgement;
      // The internet host saw the namespace's own address. A MASQUERADE naming only the host's real
      // uplink (-o eth0) leaves the grader's own way out alone: the rule holds where it was meant
      // to, but nothing the grader sent proves it live.
      if (j.outside.uplink !== v.iface && j.rules.masquerade.holds) {
        throw new Inconclusive(
          `the internet host saw ${source}, not the host's ${v.hostAddress}: the MASQUERADE (\`${j.rules.masquerade.main.decision.rule?.line}\`) applies to ${j.outside.uplink}, where the grader sends nothing; \`ecomnet verify --build\` judges it live`,
        );
      }
      t.equal(source, v.hostAddress, `the address the internet host saw (masqueraded to the host's)`);
    },
  },
  {
    id: '1.4-external-client',
    deliverable: '1.4-external-client',
    title: `the external client reaches nginx through the host's address :${port}`,
    tools: ['curl'],
    outside: true,
    run: async (t) => void (await fromNginx(t, '/health')),
  },
  {
    id: '1.4-traffic-flow',
    deliverable: '1.4-traffic-flow',
    title: 'the traffic flow: external client -> host:8080 -> DNAT -> nginx-lb:80, seen in the DNAT rule counters and in the answer',
    tools: ['curl'],
    outside: true,
    async run(t) {
      const j = t.lab.judgement;
      const dnat = j.rules.dnat.main.probe;
      /** The rule that DNATs the external client's connection, found by its effect, with its live counters. */
      const counted = async () => {
        const saved = await t.sh(`${t.lab.iptables.save} -c -t nat`);
        t.succeeded(saved, 'iptables-save');
        const d = walk(parseSave(saved.stdout), dnat.table, dnat.chain, dnat.packet);
        const rule = t.some(dnat.holds(d) ? d.rule : undefined, `no rule DNATs ${dnat.what} to ${rules.dnat.to}`);
        return { line: rule.line, packets: rule.counters?.packets ?? 0 };
      };
      const before = await counted();
      const answer = await fromNginx(t, '/health', `-w '\\n%{remote_ip}:%{remote_port}\\n' `);
      // The client spoke to the host's address; the host rewrote the destination to nginx-lb.
      t.equal(answer.body.trim().split('\n').at(-1), `${t.lab.vantage!.hostAddress}:${port}`, 'where the client connected');
      const after = await counted();
      t.equal(after.line, before.line, 'the DNAT rule');
      t.ok(after.packets > before.packets, `the DNAT rule's counter did not grow (${before.packets} -> ${after.packets})`);
    },
  },
  {
    id: '1.4-nat-rules',
    deliverable: '1.4-nat-rules',
    title: `the seed's three rules are live, recognised by what they do to packets: ${rules.masquerade.source} masqueraded leaving the host, tcp ${port} DNATed to ${rules.dnat.to}, and that connection let through FORWARD`,
    tools: [],
    async run(t) {
      // The seed's own screenshot, then the judge's walk over the rules discovery read.
      await t.sh(`${t.lab.iptables.list} -t nat -L -v -n`);
      const failed = ruleFailures(t.lab.judgement);
      t.ok(!failed.length, failed.join('\n'));
    },
  },
];
