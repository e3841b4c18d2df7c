/**
 * Why deliverables fail, from the discovered host (model.ts) and a few live facts
 * (service-facts.ts): each fault once, where it starts, with the command that mends it and the
 * deliverables it takes down. Pure. A fault inside something already missing is not reported
 * (a missing namespace has no route to miss), and a live fact is only blamed when the host
 * shows nothing on its path that explains it.
 *
 * How deliverables follow from faults: every fault breaks one or more requirement keys
 * (`ns:api-gateway`, `bridge-ip`, `masq`, `listen:order-service`, ...) and needsOf() lists,
 * per deliverable, the keys the grader's check for it depends on; a finding's deliverables are
 * those whose needs meet what it breaks.
 */
import { shellWord } from './checks/trial.ts';
import { deliverables as catalogue } from './deliverables.ts';
import { cidrHas, contains, parseCidr, parseIp } from '../topology/ipv4.ts';
import { bridge, cache, namespaces, nginxVeth, rules } from './contract.ts';
import { appBridge, type Bridge, type ContractName, contractNs, dataAt, type DataLocation, hostPeer, namespaceOf, nsLink, servesAt } from './find.ts';
import type { Judgement, RuleFault } from './judge.ts';
import type { HostModel, Listener } from './model.ts';
import type { ServiceFacts } from './service-facts.ts';

export { gatherServiceFacts, type Logins, type NginxFacts, type PostgresFacts, type RedisFacts, type ServiceFacts, type Target } from './service-facts.ts';

export interface Finding {
  /** Stable kebab-case name of the cause (the mutation catalogue asserts on it). */
  id: string;
  cause: string;
  /** What a learner would type. */
  fix: string;
  deliverables: string[];
}

/** A difference from the seed's spelling that still does the seed's job (a bridge named br0, a /24). */
export interface Deviation {
  id: string;
  text: string;
  deliverables: string[];
}

interface Fault {
  id: string;
  cause: string;
  fix: string;
  /** Requirement keys; `drawn` when the live diagram shows it red as a fault of task 1.2's network. */
  breaks: string[];
}

type Name = ContractName;
const NAMES = namespaces.map((n) => n.name);
const SUBNET = rules.masquerade.source;

const ip = (ns: Name) => contractNs(ns).ip;
const port = (ns: Name) => contractNs(ns).port;
const inNs = (ns: string, cmd: string) => `sudo ip netns exec ${ns} ${cmd}`;
const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';
const tcpOn = (ls: Listener[], p: number) => ls.filter((l) => l.proto === 'tcp' && l.port === p);
const shownListeners = (ls: Listener[]) => ls.map((l) => `${l.address}:${l.port}`).join(', ');

/** The seed names nginx's pair (veth-nginx / veth-nginx-br); the others follow it, short enough for IFNAMSIZ. */
const VETH: Record<Name, string> = {
  'nginx-lb': nginxVeth.inside,
  'api-gateway': 'veth-api',
  'product-service': 'veth-product',
  'order-service': 'veth-order',
  'redis-cache': 'veth-redis',
  'postgres-db': 'veth-pg',
};

/** Task 1.2's commands for one namespace, from the veth pair to its default route. */
function vethSetup(ns: Name, br: string): string {
  const v = VETH[ns];
  const peer = ns === 'nginx-lb' ? nginxVeth.onBridge : `${v}-br`;
  return [
    `sudo ip link add ${v} type veth peer name ${peer}`,
    `sudo ip link set ${v} netns ${ns}`,
    `sudo ip link set ${peer} master ${br}`,
    `sudo ip link set ${peer} up`,
    inNs(ns, `ip addr add ${ip(ns)}/${bridge.prefix} dev ${v}`),
    inNs(ns, `ip link set ${v} up`),
    inNs(ns, 'ip link set lo up'),
    inNs(ns, `ip route add default via ${bridge.ip}`),
  ].join(' && ');
}

// ---- where the data layer is ------------------------------------------------------------------

/** A data server as found: serving (find.ts's dataAt), or running without serving, or nowhere. */
interface Store {
  ns: 'postgres-db' | 'redis-cache';
  at?: DataLocation;
  /** A process, listener or container of it exists. */
  running: boolean;
  /** Reached through the bridge address (a container or host process) rather than its namespace. */
  onHost: boolean;
  /** Its listeners and published ports, for causes. */
  seen: string[];
  allLoopback: boolean;
  /** The postgres master's -D, for the restart command. */
  dataDir?: string;
}

function storeOf(model: HostModel, ns: 'postgres-db' | 'redis-cache'): Store {
  const p = port(ns);
  const isPg = ns === 'postgres-db';
  const at = dataAt(model, ns);
  const inside = namespaceOf(model, ns);
  const procs = inside?.processes.filter((x) => (isPg ? /^postgres/ : /^redis-server/).test(x.comm)) ?? [];
  const nsListen = tcpOn(inside?.listeners ?? [], p);
  const hostListen = tcpOn(model.host.listeners, p);
  const containers = (model.containers ?? []).filter((c) => c.running && ((isPg ? /postgres/ : /redis/).test(c.image) || c.ports.some((x) => x.containerPort === p)));
  const published = containers.flatMap((c) => c.ports.filter((x) => x.containerPort === p).map((x) => ({ c, x })));
  const seen = [
    ...nsListen.map((l) => `${l.address}:${l.port} in ${ns}`),
    ...hostListen.map((l) => `${l.address}:${l.port} on the host`),
    ...published.map(({ c, x }) => `${x.hostIp || '0.0.0.0'}:${x.hostPort} published by container ${c.name}`),
  ];
  const inNamespace = nsListen.length > 0 || procs.length > 0;
  const dataDir = procs.map((x) => x.argv.join(' ').match(/-D\s+(\S+)/)?.[1]).find(Boolean);
  return {
    ns,
    ...(at ? { at } : {}),
    running: !!at || inNamespace || hostListen.length > 0 || containers.length > 0,
    onHost: at ? at.where !== 'namespace' : !inNamespace && (hostListen.length > 0 || containers.length > 0),
    seen,
    allLoopback: seen.length > 0 && [...nsListen, ...hostListen].every((l) => isLoopback(l.address)) && published.every(({ x }) => isLoopback(x.hostIp)),
    ...(dataDir ? { dataDir } : {}),
  };
}

/** Where clients connect to a store: where it serves, else where it would (its namespace, or the bridge address). */
const storeAddress = (s: Store) => s.at?.address ?? (s.onHost ? bridge.ip : ip(s.ns));

// ---- what each deliverable needs ------------------------------------------------------------------

interface Ctx {
  model: HostModel;
  facts: ServiceFacts;
  br?: Bridge;
  brName: string;
  pg: Store;
  redis: Store;
  /** The seed's Flask product service fails a GET when Redis does not answer; ecomnet's answers from its catalogue. */
  productNeedsRedis: boolean;
  /** nginx answers /health itself (the seed's location); otherwise the request goes on to the gateway. */
  nginxAnswersHealth: boolean;
}

const ends = (ns: Name) => [`ns:${ns}`, `link:${ns}`, `addr:${ns}`, `attach:${ns}`, `peer-up:${ns}`];
const served = (ns: Name) => [`listening:${ns}`, `listen:${ns}`];

function needsOf(ctx: Ctx): Record<string, string[]> {
  const { pg, redis } = ctx;
  // Namespace to namespace over the bridge: both ends, the bridge, and FORWARD when br_netfilter sends bridged frames there.
  const l2 = (a: Name, b: Name, icmp = false) => [...ends(a), ...ends(b), 'bridge', icmp ? 'fwd-bridge-icmp' : 'fwd-bridge'];
  // Host to namespace (or namespace to 10.0.0.1): the bridge's address is the host's side.
  const viaHost = (ns: Name) => [...ends(ns), 'bridge', 'bridge-ip'];
  const toStore = (from: Name, s: Store) => (s.onHost ? viaHost(from) : l2(from, s.ns));
  const pgServes = ['pg-running', 'pg-listen', 'pg-open'];
  const redisServes = [...(redis.onHost ? [] : [`ns:${redis.ns}`]), 'redis-running', 'redis-listen', 'redis-open'];
  const ext = [...viaHost('nginx-lb'), 'route:nginx-lb', 'forward', 'dnat-path', ...served('nginx-lb')];
  const gwLocal = ['ns:api-gateway', 'lo:api-gateway', 'listening:api-gateway', 'listen-local:api-gateway'];
  const nginxToGw = [...l2('nginx-lb', 'api-gateway'), ...served('api-gateway'), 'nginx-upstream'];
  const health = ctx.nginxAnswersHealth ? [] : nginxToGw;
  const productToRedis = [...toStore('product-service', redis), ...redisServes, 'redis-reach', 'product-redis-addr'];
  const toProduct = [...l2('api-gateway', 'product-service'), ...served('product-service'), 'gateway-product', ...(ctx.productNeedsRedis ? productToRedis : [])];
  const orderToPg = [...toStore('order-service', pg), ...pgServes];
  const hostToPg = [...(pg.onHost ? [] : viaHost(pg.ns)), ...pgServes, 'pg-reach'];
  const toOrder = [...l2('api-gateway', 'order-service'), ...served('order-service'), 'gateway-order', ...orderToPg, 'pg-reach', 'pg-auth', 'pg-db', 'pg-table', 'order-db-addr'];
  const extHealth = [...ext, ...health];
  return {
    '1.1-netns-list': NAMES.map((n) => `ns:${n}`),
    '1.2-bridge': ['bridge', 'bridge-ip', ...NAMES.flatMap((n) => [`ns:${n}`, `attach:${n}`])],
    '1.2-veth': NAMES.flatMap(ends),
    '1.2-diagram': ['drawn'],
    '1.2-ping-nginx': [...l2('nginx-lb', 'api-gateway', true), ...l2('nginx-lb', 'product-service', true)],
    '1.2-ping-gateway': [...l2('api-gateway', 'product-service', true), ...l2('api-gateway', 'order-service', true)],
    '1.3-internet': [...viaHost('product-service'), 'route:product-service', 'forward', 'egress'],
    '1.4-external-client': extHealth,
    '1.4-nat-rules': ['rule:masquerade', 'rule:dnat', 'rule:forward'],
    '1.4-traffic-flow': extHealth,
    '2.1-health-host': extHealth,
    '2.1-health-namespace': [...l2('api-gateway', 'nginx-lb'), ...served('nginx-lb'), ...health],
    '2.2-listening': ['ns:api-gateway', 'listening:api-gateway'],
    '2.2-health-inside': gwLocal,
    '2.2-health-nginx': [...l2('nginx-lb', 'api-gateway'), ...served('api-gateway')],
    '2.2-products-namespace': [...gwLocal, ...toProduct],
    '2.2-products-host': [...ext, ...nginxToGw, ...toProduct, 'real-ip'],
    '2.2-orders-namespace': [...gwLocal, ...toOrder],
    '2.2-orders-host': [...ext, ...nginxToGw, ...toOrder],
    '2.3-redis-listening': [...(redis.onHost ? [] : [`ns:${redis.ns}`]), 'redis-running', 'redis-listen'],
    // Caching is proven from Redis after a GET through the gateway.
    '2.3-product-reaches-redis': [...productToRedis, ...gwLocal, ...toProduct, 'cache-write'],
    '2.4-order-listening': ['ns:order-service', 'listening:order-service'],
    '2.4-postgres-running': [...(pg.onHost ? [] : [`ns:${pg.ns}`]), 'pg-running'],
    '2.4-postgres-listening': hostToPg,
    '2.4-order-reaches-postgres': orderToPg,
    '2.4-order-written': [...gwLocal, ...toOrder],
    '2.4-order-read-back': [...gwLocal, ...toOrder, ...hostToPg, 'pg-columns'],
  };
}

// ---- the checks, root causes first --------------------------------------------------------------------

function bridgeFaults(ctx: Ctx): Fault[] {
  const { model, br, brName } = ctx;
  if (!br) {
    const attach = NAMES.flatMap((n) => {
      const peer = hostPeer(model, n);
      return peer ? [`sudo ip link set ${shellWord(peer.name)} master ${shellWord(bridge.name)}`] : [];
    });
    return [
      {
        id: 'bridge-missing',
        cause: `no bridge holds the namespaces' veths and none is named ${bridge.name}: the namespaces share no network and the host has no ${bridge.ip}`,
        fix: [`sudo ip link add ${bridge.name} type bridge`, `sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${bridge.name}`, `sudo ip link set ${bridge.name} up`, ...attach].join(' && '),
        breaks: ['bridge', 'bridge-ip', ...NAMES.map((n) => `attach:${n}`), 'drawn'],
      },
    ];
  }
  const out: Fault[] = [];
  if (!br.up) out.push({ id: 'bridge-down', cause: `${brName} is down: nothing crosses it`, fix: `sudo ip link set ${shellWord(brName)} up`, breaks: ['bridge', 'bridge-ip', 'drawn'] });
  const own = br.addresses.find((a) => a.ip === bridge.ip);
  const has = br.addresses.map((a) => `${a.ip}/${a.prefix}`).join(', ');
  if (!own) {
    out.push({
      id: 'bridge-address-missing',
      cause: `${brName} has ${has ? has : 'no address'}, not ${bridge.ip}: the namespaces' default gateway is missing and the host has no route into ${SUBNET}`,
      fix: `sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${shellWord(brName)}`,
      breaks: ['bridge-ip', 'drawn'],
    });
  } else {
    const net = parseCidr(`${own.ip}/${own.prefix}`)!;
    const outside = namespaces.filter((n) => !contains(net, parseIp(n.ip)!)).map((n) => n.ip);
    if (outside.length) {
      out.push({
        id: 'bridge-address-wrong',
        cause: `${bridge.ip}/${own.prefix} on ${brName} does not cover ${outside.join(', ')}: the host has no route to them`,
        fix: `sudo ip addr del ${bridge.ip}/${own.prefix} dev ${shellWord(brName)} && sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${shellWord(brName)}`,
        breaks: ['bridge-ip', 'drawn'],
      });
    }
  }
  return out;
}

function namespaceFaults(ctx: Ctx): Fault[] {
  const { model, br, brName } = ctx;
  const present = NAMES.filter((n) => namespaceOf(model, n));
  const missing: Fault[] = NAMES.filter((n) => !namespaceOf(model, n)).map((n) => ({
    id: 'namespace-missing',
    cause: `namespace ${n} does not exist, so neither does its veth, ${ip(n)} or its service`,
    fix: `sudo ip netns add ${n} && ${vethSetup(n, brName)}`,
    breaks: [`ns:${n}`, 'drawn'],
  }));
  const withLink = present.filter((n) => nsLink(model, n));
  const vethMissing: Fault[] = present
    .filter((n) => !nsLink(model, n))
    .map((n) => ({
      id: 'veth-missing',
      cause: `${n} has no interface on ${SUBNET} (only lo): it is not connected to ${brName}`,
      fix: vethSetup(n, brName),
      breaks: [`link:${n}`, `addr:${n}`, `attach:${n}`, `peer-up:${n}`, 'drawn'],
    }));
  const linkOf = (n: Name) => nsLink(model, n)!;
  const vethDown: Fault[] = withLink
    .filter((n) => !linkOf(n).up)
    .map((n) => ({ id: 'veth-down', cause: `${linkOf(n).name} in ${n} is down`, fix: inNs(n, `ip link set ${linkOf(n).name} up`), breaks: [`link:${n}`, 'drawn'] }));
  const address: Fault[] = withLink.flatMap((n): Fault[] => {
    const l = linkOf(n);
    const own = l.addresses.find((a) => a.ip === ip(n));
    const add = inNs(n, `ip addr add ${ip(n)}/${bridge.prefix} dev ${l.name}`);
    if (!own && !l.addresses.length)
      return [{ id: 'address-missing', cause: `${l.name} in ${n} has no address; the seed gives it ${ip(n)}/${bridge.prefix}`, fix: add, breaks: [`addr:${n}`, 'drawn'] }];
    if (!own) {
      const wrong = l.addresses.map((a) => `${a.ip}/${a.prefix}`);
      return [
        {
          id: 'address-wrong',
          cause: `${l.name} in ${n} has ${wrong.join(', ')}, not ${ip(n)}: the others reach ${n} at ${ip(n)}`,
          fix: [...wrong.map((w) => inNs(n, `ip addr del ${w} dev ${l.name}`)), add].join(' && '),
          breaks: [`addr:${n}`, 'drawn'],
        },
      ];
    }
    // A prefix that leaves out the gateway makes `default via 10.0.0.1` impossible.
    if (!contains(parseCidr(`${own.ip}/${own.prefix}`)!, parseIp(bridge.ip)!)) {
      return [
        {
          id: 'address-wrong',
          cause: `${ip(n)}/${own.prefix} in ${n} does not cover the gateway ${bridge.ip}`,
          fix: `${inNs(n, `ip addr del ${ip(n)}/${own.prefix} dev ${l.name}`)} && ${add}`,
          breaks: [`addr:${n}`, 'drawn'],
        },
      ];
    }
    return [];
  });
  const detached: Fault[] = [];
  const peerDown: Fault[] = [];
  for (const n of withLink) {
    const l = linkOf(n);
    const peer = hostPeer(model, n);
    if (!peer) {
      const where = l.peer?.namespace ? `is in namespace ${l.peer.namespace}` : l.kind === 'veth' ? 'is not on the host' : `does not exist (${l.name} is a ${l.kind}, not a veth)`;
      detached.push({
        id: 'veth-peer-detached',
        cause: `the other end of ${l.name} (${n}) ${where}: ${n} is not connected to ${brName}`,
        fix: `${inNs(n, `ip link del ${l.name}`)} && ${vethSetup(n, brName)}`,
        breaks: [`attach:${n}`, `peer-up:${n}`, 'drawn'],
      });
      continue;
    }
    // Without a bridge, bridge-missing already says where every peer goes.
    if (br && peer.master !== brName) {
      detached.push({
        id: 'veth-peer-detached',
        cause: `${peer.name}, the host end of ${n}'s ${l.name}, is ${peer.master ? `a port of ${peer.master}` : 'on no bridge'}, not ${brName}`,
        fix: `sudo ip link set ${shellWord(peer.name)} master ${shellWord(brName)}`,
        breaks: [`attach:${n}`, 'drawn'],
      });
    }
    if (!peer.up)
      peerDown.push({ id: 'veth-peer-down', cause: `${peer.name}, the host end of ${n}'s ${l.name}, is down`, fix: `sudo ip link set ${shellWord(peer.name)} up`, breaks: [`peer-up:${n}`, 'drawn'] });
  }
  const lo: Fault[] = present
    .filter((n) => namespaceOf(model, n)!.links.some((l) => l.kind === 'loopback' && !l.up))
    .map((n) => ({ id: 'lo-down', cause: `lo is down in ${n}: nothing there reaches localhost`, fix: inNs(n, 'ip link set lo up'), breaks: [`lo:${n}`] }));
  const route: Fault[] = withLink.flatMap((n): Fault[] => {
    const def = namespaceOf(model, n)!.routes.find((r) => r.dst === 'default');
    if (def?.via === bridge.ip) return [];
    return [
      {
        id: 'default-route-missing',
        cause: def ? `${n}'s default route goes via ${def.via ?? def.dev}, not ${bridge.ip}` : `${n} has no default route via ${bridge.ip}: it cannot answer or reach anything beyond ${SUBNET}`,
        fix: inNs(n, `ip route ${def ? 'replace' : 'add'} default via ${bridge.ip}`),
        breaks: [`route:${n}`],
      },
    ];
  });
  return [...missing, ...vethMissing, ...vethDown, ...address, ...detached, ...peerDown, ...lo, ...route];
}

// ---- iptables: the judge's faults -------------------------------------------------------------------

/** What each of the judge's cuts takes down, as requirement keys. */
const CUT_KEYS: Record<RuleFault['cuts'][number], string> = {
  routing: 'forward',
  egress: 'egress',
  'dnat-path': 'dnat-path',
  'bridged-tcp': 'fwd-bridge',
  'bridged-icmp': 'fwd-bridge-icmp',
};

function ruleFaults(j: Judgement): Fault[] {
  return j.faults.map((f) => ({ id: f.id, cause: f.cause, fix: f.fix, breaks: [...f.rules.map((r) => `rule:${r}`), ...f.cuts.map((c) => CUT_KEYS[c])] }));
}

// ---- services and the data layer ----------------------------------------------------------------------------

/** The seed's start commands (tasks 2.1-2.4). */
function startCommand(ctx: Ctx, ns: Name): string {
  // The build's own line when the grader ran it; the seed's otherwise.
  const own = ctx.facts.starts?.[ns];
  if (own) return own.startsWith('sudo ') ? own : `sudo ${own}`;
  switch (ns) {
    case 'nginx-lb':
      return inNs(ns, `nginx -c ${ctx.facts.nginx?.configPath ?? '/tmp/nginx/nginx.conf'}`);
    case 'api-gateway':
      return `${inNs(ns, 'python3 /tmp/api-gateway.py')} &`;
    case 'product-service':
      return `${inNs(ns, 'python3 /tmp/product-service.py')} &`;
    default:
      return `${inNs(ns, 'python3 /tmp/order-service.py')} &`;
  }
}

const SERVICES: { ns: Name; id: string; bind: string }[] = [
  { ns: 'nginx-lb', id: 'nginx', bind: '`listen 80;` (all addresses) in nginx.conf, then' },
  { ns: 'api-gateway', id: 'gateway', bind: "app.run(host='0.0.0.0', port=3000), then" },
  { ns: 'product-service', id: 'product', bind: "app.run(host='0.0.0.0', port=5000), then" },
  { ns: 'order-service', id: 'order', bind: "app.run(host='0.0.0.0', port=5000), then" },
];

function serviceFaults(ctx: Ctx): Fault[] {
  return SERVICES.flatMap(({ ns, id, bind }): Fault[] => {
    const n = namespaceOf(ctx.model, ns);
    if (!n) return [];
    const [addr, p] = [ip(ns), port(ns)];
    const on = tcpOn(n.listeners, p);
    const keys = { listening: `listening:${ns}`, listen: `listen:${ns}`, local: `listen-local:${ns}` };
    if (!on.length) {
      const others = n.listeners.filter((l) => l.proto === 'tcp');
      const running = [...new Set(n.processes.map((x) => x.comm))];
      const dead = ctx.facts.dead?.find((d) => d.ns === ns);
      // A service the build started that is gone: its own last words say why.
      const seen = others.length
        ? ` (it listens on ${shownListeners(others)})`
        : running.length
          ? ` (running there: ${running.join(', ')})`
          : dead
            ? `: the build started it (\`${dead.line}\`) and it exited${dead.lastWords ? `, its last words: ${dead.lastWords}` : ' without a word'}`
            : ' (nothing runs there)';
      return [
        {
          id: `${id}-not-listening`,
          cause: `nothing listens on ${addr}:${p} in ${ns}${seen}`,
          fix: dead ? `${dead.line.replace(/\s*&\s*$/, '')} (in the foreground, to read why it stops)` : startCommand(ctx, ns),
          breaks: [keys.listening, keys.listen, keys.local],
        },
      ];
    }
    const out: Fault[] = [];
    if (!on.some((l) => servesAt(l, addr))) {
      const loop = on.every((l) => isLoopback(l.address));
      out.push({
        id: loop ? `${id}-loopback-only` : `${id}-not-listening`,
        cause: `${ns} listens on ${shownListeners(on)} only: other namespaces cannot reach ${addr}:${p}`,
        fix: `${bind} ${startCommand(ctx, ns)}`,
        breaks: [keys.listen],
      });
    } else if (ns === 'api-gateway' && !on.some((l) => servesAt(l, '127.0.0.1') || isLoopback(l.address))) {
      // The seed's checks call the gateway as localhost:3000 from its own namespace.
      out.push({
        id: 'gateway-not-on-localhost',
        cause: `api-gateway listens on ${shownListeners(on)} only: curl localhost:${p} inside it is refused`,
        fix: `${bind} ${startCommand(ctx, ns)}`,
        breaks: [keys.local],
      });
    }
    return out;
  });
}

function storeFaults(ctx: Ctx, s: Store): Fault[] {
  const isPg = s.ns === 'postgres-db';
  const key = isPg ? 'pg' : 'redis';
  const where = storeAddress(s);
  const p = port(s.ns);
  // Expected in a namespace that is missing: namespace-missing already covers it.
  if (!s.onHost && !namespaceOf(ctx.model, s.ns) && !s.at) return [];
  if (s.at) return [];
  const seen = s.seen.length ? ` (seen: ${s.seen.join(', ')})` : '';
  if (!s.running) {
    return isPg
      ? [
          {
            id: 'postgres-missing',
            cause: `no PostgreSQL runs: nothing in postgres-db, no container, nothing on the host's port ${p}`,
            fix: 'sudo docker run -d --name postgres -p 5432:5432 -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=orders postgres:15',
            breaks: ['pg-running', 'pg-listen', 'pg-open'],
          },
        ]
      : [
          {
            id: 'redis-not-listening',
            cause: `no Redis runs: nothing listens on ${ip('redis-cache')}:${p} in redis-cache and none is published on the host`,
            fix: inNs('redis-cache', 'redis-server --bind 0.0.0.0 --protected-mode no --daemonize yes'),
            breaks: ['redis-running', 'redis-listen', 'redis-open'],
          },
        ];
  }
  const restartPg = s.onHost ? 'sudo systemctl restart postgresql' : inNs('postgres-db', `su postgres -c 'pg_ctl -D ${s.dataDir ?? '<its data directory>'} restart'`);
  const openPg = `sudo -u postgres psql -c "ALTER SYSTEM SET listen_addresses = '*'" && ${restartPg}`;
  const openRedis = s.onHost
    ? 'sudo docker run -d --name redis -p 6379:6379 redis:7'
    : `${inNs('redis-cache', 'redis-cli CONFIG SET bind 0.0.0.0')} && ${inNs('redis-cache', 'redis-cli CONFIG SET protected-mode no')}`;
  if (!s.seen.length || !s.allLoopback) {
    return [
      {
        id: `${isPg ? 'postgres' : 'redis'}-not-listening`,
        cause: `${isPg ? 'PostgreSQL' : 'Redis'} runs but nothing serves ${where}:${p}${seen}`,
        fix: isPg ? (s.onHost ? 'sudo docker run -d --name postgres -p 5432:5432 -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=orders postgres:15' : openPg) : openRedis,
        breaks: [`${key}-listen`, `${key}-open`],
      },
    ];
  }
  return [
    {
      id: `${isPg ? 'postgres' : 'redis'}-loopback-only`,
      cause: `${isPg ? 'PostgreSQL' : 'Redis'} listens on loopback only${seen}: ${isPg ? 'order-service' : 'product-service'} cannot reach ${where}:${p}`,
      fix: isPg ? openPg : openRedis,
      breaks: [`${key}-open`],
    },
  ];
}

/** Task 2.4's orders table, column by column. */
const SEED_COLUMNS = ['id', 'customer_id', 'product_id', 'quantity', 'total_price', 'created_at'];

const isHostAddress = (model: HostModel, a: string) => model.host.links.some((l) => l.addresses.some((x) => x.ip === a));
const inLab = (a: string) => cidrHas(SUBNET, a);

/** A service's configured target against where the store serves; undefined when it matches or cannot be judged (a host name). */
function targetFault(ctx: Ctx, s: Store, t: { host: string; port: number; source: string } | undefined, who: Name, id: string, key: string): Fault | undefined {
  if (!t || !s.at) return undefined;
  const local = t.host === 'localhost' || isLoopback(t.host);
  if (!local && parseIp(t.host) === undefined) return undefined;
  const right = t.port === s.at.port && (t.host === s.at.address || (s.at.where !== 'namespace' && isHostAddress(ctx.model, t.host)));
  if (right) return undefined;
  const what = s.ns === 'postgres-db' ? 'PostgreSQL' : 'Redis';
  return {
    id,
    cause: `${who} connects to ${t.host}:${t.port} (${t.source}), but ${what} answers at ${s.at.address}:${s.at.port}${local ? `, not inside ${who}` : ''}`,
    fix: `set ${s.at.address}:${s.at.port} in ${t.source}, then restart it: ${startCommand(ctx, who)}`,
    breaks: [key],
  };
}

function configFaults(ctx: Ctx): Fault[] {
  const out: Fault[] = [];
  const n = ctx.facts.nginx;
  const gw = `${ip('api-gateway')}:${port('api-gateway')}`;
  if (n && !n.error && namespaceOf(ctx.model, 'nginx-lb') && !n.upstream.includes(gw)) {
    // A host name nginx resolves itself cannot be judged here.
    const judged = n.upstream.every((u) => {
      const host = u.replace(/:\d+$/, '');
      return host === 'localhost' || parseIp(host) !== undefined;
    });
    if (judged) {
      out.push({
        id: 'nginx-upstream-wrong',
        cause: n.upstream.length
          ? `${n.configPath} sends /api/ to ${n.upstream.join(', ')}, not the gateway ${gw}`
          : `${n.configPath} has no proxy_pass for /api/: nginx never passes it to the gateway ${gw}`,
        fix: `set \`server ${gw};\` in the upstream that \`location /\` proxies to in ${n.configPath}, then: ${inNs('nginx-lb', `nginx -c ${n.configPath} -s reload`)}`,
        breaks: ['nginx-upstream'],
      });
    }
  }
  if (n && !n.error && namespaceOf(ctx.model, 'nginx-lb') && n.upstream.includes(gw) && !n.realIp) {
    out.push({
      id: 'nginx-real-ip-missing',
      cause: `${n.configPath} does not pass the client's address to the gateway: the location /api/ goes through sets no \`proxy_set_header X-Real-IP $remote_addr\``,
      fix: `add \`proxy_set_header X-Real-IP $remote_addr;\` to \`location /\` in ${n.configPath}, then: ${inNs('nginx-lb', `nginx -c ${n.configPath} -s reload`)}`,
      breaks: ['real-ip'],
    });
  }
  out.push(...gatewayFaults(ctx));
  const db = targetFault(ctx, ctx.pg, ctx.facts.orderDb, 'order-service', 'order-db-address-wrong', 'order-db-addr');
  const kv = targetFault(ctx, ctx.redis, ctx.facts.productRedis, 'product-service', 'product-redis-address-wrong', 'product-redis-addr');
  return [...out, ...(db ? [db] : []), ...(kv ? [kv] : [])];
}

/** Where the gateway sends products and orders, against where those services answer: judged only when it names lab addresses at all. */
function gatewayFaults(ctx: Ctx): Fault[] {
  const targets = ctx.facts.gatewayTargets?.filter((t) => inLab(t.host));
  if (!targets?.length) return [];
  return (['product-service', 'order-service'] as const).flatMap((ns): Fault[] => {
    const want = `${ip(ns)}:${port(ns)}`;
    if (targets.some((t) => `${t.host}:${t.port}` === want)) return [];
    // The URL meant for it: the one at its address (a wrong port), else the one at its port (a wrong address).
    const meant = targets.find((t) => t.host === ip(ns)) ?? targets.find((t) => t.port === port(ns) && !NAMES.some((n) => n !== ns && ip(n) === t.host));
    if (!meant) return [];
    const what = ns === 'product-service' ? 'products' : 'orders';
    return [
      {
        id: `gateway-${ns === 'product-service' ? 'product' : 'order'}-address-wrong`,
        cause: `the gateway sends ${what} to ${meant.host}:${meant.port} (${meant.source}), but ${ns} answers at ${want}`,
        fix: `set http://${want} in ${meant.source}, then restart the gateway: ${startCommand(ctx, 'api-gateway')}`,
        breaks: [ns === 'product-service' ? 'gateway-product' : 'gateway-order'],
      },
    ];
  });
}

/** Facts from connecting: blamed only when nothing the host shows already explains them. */
function liveFaults(ctx: Ctx, needs: Record<string, string[]>, broken: Set<string>): Fault[] {
  const clear = (id: string, except: string[] = []) => needs[id]!.every((k) => except.includes(k) || !broken.has(k));
  const out: Fault[] = [];
  const pg = ctx.facts.postgres;
  if (pg && ctx.pg.at && clear('2.4-postgres-listening', ['pg-reach'])) {
    const psql = `psql -h ${pg.host} -U ${pg.user}`;
    if (pg.reachable === false) {
      out.push({
        id: 'postgres-unreachable',
        cause: `the host cannot connect to PostgreSQL at ${pg.host}:${pg.port}: ${pg.error ?? 'no answer'}`,
        fix: `sudo ss -ltnp 'sport = :${pg.port}' && ${psql} -d ${pg.database} -c 'SELECT 1'`,
        breaks: ['pg-reach'],
      });
    } else if (pg.authOk === false) {
      const hba = pg.code === '28000';
      out.push({
        id: 'postgres-auth-failed',
        cause: hba ? `PostgreSQL refuses ${pg.user} from the lab's addresses (no pg_hba.conf entry): ${pg.error}` : `PostgreSQL rejects ${pg.user}'s password: ${pg.error ?? pg.code}`,
        fix: hba
          ? `add \`host all all ${SUBNET} scram-sha-256\` to pg_hba.conf, then: sudo -u postgres psql -c 'SELECT pg_reload_conf()'`
          : `sudo -u postgres psql -c "ALTER USER ${pg.user} PASSWORD 'postgres'"`,
        breaks: ['pg-auth'],
      });
    } else if (pg.databaseExists === false) {
      out.push({ id: 'orders-database-missing', cause: `PostgreSQL at ${pg.host} has no database ${pg.database}`, fix: `${psql} -c 'CREATE DATABASE ${pg.database}'`, breaks: ['pg-db'] });
    } else if (pg.ordersTable === false && !broken.has('listening:order-service')) {
      out.push({
        id: 'orders-table-missing',
        cause: `database ${pg.database} at ${pg.host} has no orders table: the order service creates it when it starts (init_db), and has not`,
        fix: `${psql} -d ${pg.database} -c 'CREATE TABLE IF NOT EXISTS orders (id SERIAL PRIMARY KEY, customer_id VARCHAR(100), product_id VARCHAR(100), quantity INTEGER, total_price DECIMAL(10, 2), created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)'`,
        breaks: ['pg-table'],
      });
    } else if (pg.ordersColumns && SEED_COLUMNS.join() !== pg.ordersColumns.join()) {
      const missing = SEED_COLUMNS.filter((c) => !pg.ordersColumns!.includes(c));
      const extra = pg.ordersColumns.filter((c) => !SEED_COLUMNS.includes(c));
      out.push({
        id: 'orders-columns-differ',
        cause: `the orders table in ${pg.database} at ${pg.host} has the columns ${pg.ordersColumns.join(', ')}, not the seed's ${SEED_COLUMNS.join(', ')}${missing.length ? ` (missing ${missing.join(', ')}${extra.length ? `; instead ${extra.join(', ')}` : ''})` : ''}: the seed's SELECT reads them by name`,
        fix: `${missing.length && extra.length === missing.length ? missing.map((c, i) => `${psql} -d ${pg.database} -c 'ALTER TABLE orders RENAME COLUMN ${extra[i]} TO ${c}'`).join(' && ') : `recreate the table with the seed's schema (init_db)`}, and use the seed's column names in the order service`,
        breaks: ['pg-columns'],
      });
    }
  }
  const r = ctx.facts.redis;
  const redisPath = [...(ctx.redis.onHost ? [] : ends(ctx.redis.ns)), 'bridge', 'bridge-ip', 'redis-running', 'redis-listen', 'redis-open'];
  if (r && ctx.redis.at && redisPath.every((k) => !broken.has(k))) {
    if (r.reachable === false) {
      const denied = /DENIED|protected mode/i.test(r.error ?? '');
      out.push(
        denied
          ? {
              id: 'redis-protected-mode',
              cause: `Redis at ${r.host}:${r.port} is in protected mode: it refuses clients from other addresses`,
              fix: inNs('redis-cache', 'redis-cli CONFIG SET protected-mode no'),
              breaks: ['redis-reach'],
            }
          : { id: 'redis-unreachable', cause: `the host cannot use Redis at ${r.host}:${r.port}: ${r.error ?? 'no answer'}`, fix: `redis-cli -h ${r.host} -p ${r.port} PING`, breaks: ['redis-reach'] },
      );
    } else if (r.allProducts === false && clear('2.3-product-reaches-redis', ['cache-write'])) {
      out.push({
        id: 'product-cache-unused',
        cause: `Redis at ${r.host}:${r.port} holds no ${cache.allKey} after GET /api/products: the product service does not cache there`,
        fix: `cache = redis.Redis(host='${r.host}', port=${r.port}) in the product service, then restart it: ${startCommand(ctx, 'product-service')}`,
        breaks: ['cache-write'],
      });
    } else if (r.allProducts && r.allProductsTtl === -1) {
      out.push({
        id: 'product-cache-no-ttl',
        cause: `${cache.allKey} in Redis has no TTL: the product service stores it with SET, not SETEX ${cache.ttlSeconds}`,
        fix: `cache.setex('${cache.allKey}', ${cache.ttlSeconds}, json.dumps(products)) in the product service, then: redis-cli -h ${r.host} DEL ${cache.allKey}`,
        breaks: ['cache-write'],
      });
    }
  }
  return out;
}

function contextOf(model: HostModel, facts: ServiceFacts): Ctx {
  const br = appBridge(model);
  const products = namespaceOf(model, 'product-service')?.processes ?? [];
  return {
    model,
    facts,
    ...(br ? { br } : {}),
    brName: br?.name ?? bridge.name,
    pg: storeOf(model, 'postgres-db'),
    redis: storeOf(model, 'redis-cache'),
    productNeedsRedis: products.some((p) => /^python|flask|gunicorn/.test(p.comm) || p.argv.some((a) => a.endsWith('.py'))),
    nginxAnswersHealth: facts.nginx && !facts.nginx.error ? facts.nginx.health : true,
  };
}

/** A service told the wrong address died of it: one finding, the address, with the service's last words and what its death takes down. */
function rootCauses(faults: Fault[], ctx: Ctx): Fault[] {
  const causedBy: Record<string, string> = { 'order-db-address-wrong': 'order-not-listening', 'product-redis-address-wrong': 'product-not-listening' };
  const folded = new Set<Fault>();
  const out = faults.map((f) => {
    const symptom = faults.find((x) => x.id === causedBy[f.id]);
    const ns = f.id.startsWith('order') ? 'order-service' : 'product-service';
    const dead = ctx.facts.dead?.find((d) => d.ns === ns);
    if (!symptom || !dead) return f;
    folded.add(symptom);
    return { ...f, cause: `${f.cause}; it exited${dead.lastWords ? `, its last words: ${dead.lastWords}` : ''}`, breaks: [...f.breaks, ...symptom.breaks] };
  });
  return out.filter((f) => !folded.has(f));
}

/**
 * Why deliverables fail, root causes first: the bridge, the namespaces and their links, the
 * sysctl and rules (the judge's), the services, the data layer, then what connecting showed.
 */
export function diagnose(model: HostModel, judgement: Judgement, facts: ServiceFacts = {}): Finding[] {
  const ctx = contextOf(model, facts);
  const needs = needsOf(ctx);
  const structural = [
    ...bridgeFaults(ctx),
    ...namespaceFaults(ctx),
    ...ruleFaults(judgement),
    ...serviceFaults(ctx),
    ...storeFaults(ctx, ctx.redis),
    ...storeFaults(ctx, ctx.pg),
    ...configFaults(ctx),
  ];
  const broken = new Set(structural.flatMap((f) => f.breaks));
  return rootCauses([...structural, ...liveFaults(ctx, needs, broken)], ctx).map((f) => {
    const b = new Set(f.breaks);
    return { id: f.id, cause: f.cause, fix: f.fix, deliverables: catalogue.filter((d) => needs[d.id]?.some((k) => b.has(k))).map((d) => d.id) };
  });
}

/** How the lab differs from the seed's spelling while doing its job; never a failure by itself. */
export function deviations(model: HostModel, judgement: Judgement, facts: ServiceFacts = {}): Deviation[] {
  const out: Deviation[] = [];
  const br = appBridge(model);
  if (br && br.name !== bridge.name) out.push({ id: 'bridge-renamed', text: `the app bridge is ${br.name}, not the seed's ${bridge.name}`, deliverables: ['1.2-bridge'] });
  const own = br?.addresses.find((a) => a.ip === bridge.ip);
  if (own && own.prefix !== bridge.prefix && namespaces.every((n) => cidrHas(`${own.ip}/${own.prefix}`, n.ip))) {
    out.push({
      id: 'bridge-prefix',
      text: `${br!.name} has ${bridge.ip}/${own.prefix}, not /${bridge.prefix}: it covers the six namespaces, not all of ${SUBNET}`,
      deliverables: ['1.2-bridge', '1.2-diagram'],
    });
  }
  for (const n of namespaces) {
    const a = nsLink(model, n.name)?.addresses.find((x) => x.ip === n.ip);
    if (a && a.prefix !== bridge.prefix && cidrHas(`${a.ip}/${a.prefix}`, bridge.ip)) {
      out.push({ id: 'namespace-prefix', text: `${n.name} has ${n.ip}/${a.prefix}, not /${bridge.prefix}`, deliverables: ['1.2-veth', '1.2-diagram'] });
    }
  }
  const nginx = nsLink(model, 'nginx-lb');
  const nginxPeer = hostPeer(model, 'nginx-lb');
  if (nginx && nginxPeer && (nginx.name !== nginxVeth.inside || nginxPeer.name !== nginxVeth.onBridge)) {
    out.push({ id: 'veth-renamed', text: `nginx-lb's pair is ${nginx.name} / ${nginxPeer.name}, not the seed's ${nginxVeth.inside} / ${nginxVeth.onBridge}`, deliverables: ['1.2-veth'] });
  }
  out.push(...judgement.deviations);
  if (facts.nginx && !facts.nginx.error && !facts.nginx.health) {
    out.push({
      id: 'nginx-no-health',
      text: `${facts.nginx.configPath} has no \`location /health\` of its own: /health goes on to the gateway`,
      deliverables: ['2.1-health-host', '2.1-health-namespace'],
    });
  }
  return out;
}
