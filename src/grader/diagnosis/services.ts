import { cidrHas, parseIp } from '../../topology/ipv4.ts';
import { namespaceOf, servesAt } from '../find.ts';
import type { HostModel } from '../model.ts';
import { type Ctx, type Fault, type Name, NAMES, SUBNET, ip, port, inNs, isLoopback, tcpOn, shownListeners, type Store, storeAddress } from './common.ts';

/** The seed's start commands (tasks 2.1-2.4). */
export function startCommand(ctx: Ctx, ns: Name): string {
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

export const SERVICES: { ns: Name; id: string; bind: string }[] = [
  { ns: 'nginx-lb', id: 'nginx', bind: '`listen 80;` (all addresses) in nginx.conf, then' },
  { ns: 'api-gateway', id: 'gateway', bind: "app.run(host='0.0.0.0', port=3000), then" },
  { ns: 'product-service', id: 'product', bind: "app.run(host='0.0.0.0', port=5000), then" },
  { ns: 'order-service', id: 'order', bind: "app.run(host='0.0.0.0', port=5000), then" },
];

export function serviceFaults(ctx: Ctx): Fault[] {
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

export function storeFaults(ctx: Ctx, s: Store): Fault[] {
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
export const SEED_COLUMNS = ['id', 'customer_id', 'product_id', 'quantity', 'total_price', 'created_at'];

export const isHostAddress = (model: HostModel, a: string) => model.host.links.some((l) => l.addresses.some((x) => x.ip === a));
export const inLab = (a: string) => cidrHas(SUBNET, a);

/** A service's configured target against where the store serves; undefined when it matches or cannot be judged (a host name). */
export function targetFault(ctx: Ctx, s: Store, t: { host: string; port: number; source: string } | undefined, who: Name, id: string, key: string): Fault | undefined {
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

export function configFaults(ctx: Ctx): Fault[] {
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
export function gatewayFaults(ctx: Ctx): Fault[] {
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
