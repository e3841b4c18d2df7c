/**
 * Day 6's deliverables, judged live on both hosts: the overlay carries a ping from host A's
 * namespaces to host B's; on the underlay that ping is UDP 4789 with VNI 100 (read from the captured
 * bytes); the overlay leaves room for the 50-byte header; and every app address has one owner.
 */
import { isDeepStrictEqual } from 'node:util';
import { run } from '../../host/exec.ts';
import { cidrHas } from '../../topology/ipv4.ts';
import { check, waitFor } from '../../util/wait.ts';
import { order, orderCreated, products, namespaces as seed } from '../contract.ts';
import { SUBNET } from '../diagnosis/common.ts';
import { gatewayOnA, mtu, split, vxlan } from './contract.ts';
import type { Day6Id } from './diagnose.ts';
import { type Evidence, evidenceOf, type HostState, type Machine } from './discover.ts';

export interface Verdict {
  id: Day6Id;
  title: string;
  /** inconclusive: the grader could not judge it (6-seed without an outside to stand in, say), never the build's fail. */
  status: 'pass' | 'fail' | 'inconclusive';
  reason?: string;
  evidence: Evidence[];
}

/** Where the underlay is captured: an argv prefix run on this machine (the switch between the hosts), or host A's own device. */
export interface CapturePoint {
  prefix: string[];
  dev: string;
}

export interface Ctx {
  a: Machine;
  b: Machine;
  sa: HostState;
  sb: HostState;
  capture?: CapturePoint;
}

export const titles: Record<Day6Id, string> = {
  '6-overlay': "a namespace on host A reaches each of host B's across the overlay",
  '6-underlay': `on the underlay the overlay's traffic is UDP ${vxlan.port} with VNI ${vxlan.vni}`,
  '6-mtu': `the overlay leaves room for the ${mtu.header}-byte header: a DF ping of ${mtu.dfPingCrosses} bytes crosses, ${mtu.dfPingStops} does not, a large TCP transfer neither fragments nor stalls`,
  '6-addresses': `one owner per app address: host A's ${vxlan.bridge} keeps ${gatewayOnA}, no address is on both hosts`,
  '6-e2e': "products and orders cross the overlay end to end: from host A through nginx, the seed's products (Redis on host B) and an order stored (PostgreSQL on host B)",
  '6-seed': "the seed's deliverables all pass on the two hosts judged as one lab: each of the seed's commands run on the host that holds what it asks about",
};

const appAddressOf = (h: HostState, ns: string) =>
  h.namespaces
    .find((n) => n.name === ns)
    ?.links.flatMap((l) => l.addresses)
    .find((a) => cidrHas(SUBNET, a));

/** The split's namespaces a host has, with their app addresses. */
export const endpoints = (h: HostState, names: readonly string[]) =>
  names.flatMap((ns) => {
    const ip = appAddressOf(h, ns);
    return ip ? [{ ns, ip }] : [];
  });

async function exec(m: Machine, argv: string[], ev: Evidence[], timeoutMs = 10_000) {
  const r = await m.exec(argv, { allowFail: true, timeoutMs });
  ev.push(evidenceOf(m.name, r));
  return r;
}

const ping = (ns: string, ip: string, extra: string[] = []) => ['ip', 'netns', 'exec', ns, 'ping', '-n', '-c1', '-W2', ...extra, ip];

function verdict(id: Day6Id, evidence: Evidence[], reason?: string): Verdict {
  return { id, title: titles[id], status: reason ? 'fail' : 'pass', ...(reason ? { reason } : {}), evidence };
}

/** The pair of namespaces the traffic checks use: host A's first of the split, host B's first; or why there is none. */
function pairOf(c: Ctx): { src: { ns: string; ip: string }; dst: { ns: string; ip: string }[] } | string {
  const [src] = endpoints(c.sa, split.a);
  const dst = endpoints(c.sb, split.b);
  if (!src) return `${c.a.name} has none of ${split.a.join(', ')} with an address in ${SUBNET}`;
  if (dst.length === 0) return `${c.b.name} has none of ${split.b.join(', ')} with an address in ${SUBNET}`;
  return { src, dst };
}

export async function overlay(c: Ctx): Promise<Verdict> {
  const ev: Evidence[] = [];
  const p = pairOf(c);
  if (typeof p === 'string') return verdict('6-overlay', ev, p);
  const rs = await Promise.all(p.dst.map((d) => exec(c.a, ping(p.src.ns, d.ip), ev)));
  const lost = p.dst.filter((_, i) => rs[i]!.exitCode !== 0);
  return verdict('6-overlay', ev, lost.length ? `${p.src.ns} (${c.a.name}) gets no answer from ${lost.map((d) => `${d.ns} ${d.ip}`).join(', ')} (${c.b.name})` : undefined);
}

export interface Datagram {
  src: string;
  dst: string;
  dport: number;
  /** The VXLAN header's I flag (a valid VNI follows) and the VNI, from the bytes after UDP's header. */
  vniValid: boolean;
  vni: number;
}

/** `tcpdump -nn -x` output (IPv4 from its first byte) to the UDP datagrams it shows. */
export function parseCapture(out: string): Datagram[] {
  const packets: number[][] = [];
  for (const line of out.split('\n')) {
    const hex = /^\s+0x[0-9a-f]+:\s+([0-9a-f ]+)$/i.exec(line);
    if (hex) packets.at(-1)?.push(...(hex[1]!.match(/[0-9a-f]{2}/gi) ?? []).map((h) => Number.parseInt(h, 16)));
    else if (line.trim()) packets.push([]);
  }
  return packets.flatMap((b) => {
    const ihl = ((b[0] ?? 0) & 0x0f) * 4;
    if (b[0]! >> 4 !== 4 || b[9] !== 17 || b.length < ihl + 16) return [];
    const u = ihl;
    return [
      {
        src: b.slice(12, 16).join('.'),
        dst: b.slice(16, 20).join('.'),
        dport: (b[u + 2]! << 8) | b[u + 3]!,
        vniValid: (b[u + 8]! & 0x08) !== 0,
        vni: (b[u + 12]! << 16) | (b[u + 13]! << 8) | b[u + 14]!,
      },
    ];
  });
}

export async function underlay(c: Ctx): Promise<Verdict> {
  const ev: Evidence[] = [];
  const p = pairOf(c);
  if (typeof p === 'string') return verdict('6-underlay', ev, p);
  const [bIp] = c.sb.underlay;
  if (!bIp) return verdict('6-underlay', ev, `${c.b.name}'s underlay device has no address`);
  const [back] = endpoints(c.sa, split.a);
  const dst = p.dst[0]!;
  const tcpdump = ['timeout', '5', 'tcpdump', '-nn', '-l', '-x', '-s', '96', '-c', '6', '-i', c.capture?.dev ?? vxlan.underlayDev, 'udp', 'and', 'host', bIp];
  const capture = c.capture ? run([...c.capture.prefix, ...tcpdump], { allowFail: true, timeoutMs: 10_000 }) : c.a.exec(tcpdump, { allowFail: true, timeoutMs: 10_000 });
  let done = false;
  void capture.then(() => (done = true));
  // Pings both ways until the capture has its datagrams (it may start listening after the first) or gives up.
  let crossed = false;
  let last: Evidence[] = [];
  while (!done) {
    const round: Evidence[] = [];
    const [there] = await Promise.all([exec(c.a, ping(p.src.ns, dst.ip, ['-W1']), round), exec(c.b, ping(dst.ns, back!.ip, ['-W1']), round)]);
    if (there.exitCode === 0) crossed = true;
    last = round;
  }
  const r = await capture;
  ev.push(...last, evidenceOf(c.capture ? 'underlay' : c.a.name, r));
  const seen = parseCapture(r.stdout);
  const out = seen.filter((d) => d.dst === bIp);
  const back2 = seen.filter((d) => d.src === bIp);
  const wrong = seen.filter((d) => d.dport !== vxlan.port || !d.vniValid || d.vni !== vxlan.vni);
  const say = (d: Datagram) => `${d.src} > ${d.dst} UDP ${d.dport} ${d.vniValid ? `VNI ${d.vni}` : 'no valid VNI'}`;
  const reason = wrong.length
    ? `the overlay's datagrams are not UDP ${vxlan.port} with VNI ${vxlan.vni}: ${[...new Set(wrong.map(say))].join(', ')}`
    : !crossed
      ? `no ping from ${p.src.ns} to ${dst.ns} crossed while the underlay was captured (${seen.length} datagram(s) seen${seen.length ? `, e.g. ${say(seen[0]!)}` : ''})`
      : !out.length || !back2.length
        ? `the capture saw ${out.length} datagram(s) to ${c.b.name} and ${back2.length} from it`
        : undefined;
  return verdict('6-underlay', ev, reason);
}

/** IPv4 counters of a host's own namespace (/proc/net/snmp), where the underlay's fragments are counted. */
async function ipCounters(m: Machine, ev: Evidence[]): Promise<Record<string, number>> {
  const r = await exec(m, ['cat', '/proc/net/snmp'], ev);
  const [names, values] = r.stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const n = names?.split(/\s+/).slice(1) ?? [];
  const v = values?.split(/\s+/).slice(1).map(Number) ?? [];
  return Object.fromEntries(n.map((k, i) => [k, v[i] ?? 0]));
}

export const transferBytes = 4 * 1024 * 1024;

export async function overlayMtu(c: Ctx): Promise<Verdict> {
  const ev: Evidence[] = [];
  const p = pairOf(c);
  if (typeof p === 'string') return verdict('6-mtu', ev, p);
  const dst = p.dst[0]!;
  const fits = await exec(c.a, ping(p.src.ns, dst.ip, ['-M', 'do', '-s', String(mtu.dfPingCrosses)]), ev);
  const over = await exec(c.a, ping(p.src.ns, dst.ip, ['-M', 'do', '-s', String(mtu.dfPingStops)]), ev);
  if (fits.exitCode !== 0) return verdict('6-mtu', ev, `a DF ping of ${mtu.dfPingCrosses} bytes from ${p.src.ns} to ${dst.ns} does not cross (no transfer tried)`);
  if (over.exitCode === 0 || / bytes from /.test(over.stdout))
    return verdict(
      '6-mtu',
      ev,
      `a DF ping of ${mtu.dfPingStops} bytes crosses: the overlay carries more than ${mtu.overlay} bytes, so its frames cannot fit a ${mtu.underlay}-byte underlay unfragmented`,
    );
  // The sender starts from its own MTU: forget anything the pings taught it.
  await exec(c.a, ['ip', '-n', p.src.ns, 'route', 'flush', 'cache'], ev);
  const port = String(40_000 + Math.floor(Math.random() * 10_000));
  // Nothing listens there yet: an open path answers "refused" at once. A firewall that rejects
  // the connection (ecomnet's east-west deny does, with admin-prohibited) leaves no path for a
  // transfer; the namespaces' own MTUs then say whether a full-size segment fits the overlay.
  const probe = await exec(c.a, ['ip', 'netns', 'exec', p.src.ns, 'nc', '-v', '-z', '-w', '3', dst.ip, port], ev);
  if (/No route to host|prohibited/i.test(probe.stderr)) return mtuOfLinks(c, ev, `a connection from ${p.src.ns} to ${dst.ns}:${port} is rejected by the build's firewall, so no transfer was tried`);
  const [beforeA, beforeB] = await Promise.all([ipCounters(c.a, ev), ipCounters(c.b, ev)]);
  const listener = exec(c.b, ['ip', 'netns', 'exec', dst.ns, 'timeout', '20', 'sh', '-c', `nc -l ${dst.ip} ${port} </dev/null | wc -c`], ev, 25_000);
  const listening = await waitFor(
    async () => {
      const r = await c.b.exec(['ip', 'netns', 'exec', dst.ns, 'ss', '-Hltn', `sport = :${port}`], { allowFail: true });
      check(r.stdout.trim() !== '', 'not listening yet');
    },
    { what: `nc listening in ${dst.ns}`, timeoutMs: 5000, intervalMs: 20 },
  ).then(
    () => true,
    () => false,
  );
  if (!listening) return verdict('6-mtu', ev, `nc did not start listening in ${c.b.name}'s ${dst.ns}`);
  const started = performance.now();
  const sent = await exec(c.a, ['ip', 'netns', 'exec', p.src.ns, 'sh', '-c', `head -c ${transferBytes} /dev/zero | timeout 15 nc -N ${dst.ip} ${port}`], ev, 20_000);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const received = Number((await listener).stdout.trim()) || 0;
  const [afterA, afterB] = await Promise.all([ipCounters(c.a, ev), ipCounters(c.b, ev)]);
  const learned = await exec(c.a, ['ip', '-n', p.src.ns, 'route', 'get', dst.ip], ev);
  const fragmented = (afterA.FragCreates ?? 0) - (beforeA.FragCreates ?? 0) + (afterB.ReasmReqds ?? 0) - (beforeB.ReasmReqds ?? 0);
  const pmtu = / mtu (\d+)/.exec(learned.stdout)?.[1];
  const reason =
    received !== transferBytes || sent.exitCode !== 0
      ? `a ${transferBytes}-byte TCP transfer from ${p.src.ns} to ${dst.ns} stalled: ${received} bytes arrived in ${seconds} s (sender exit ${sent.exitCode})`
      : fragmented > 0
        ? `the ${transferBytes}-byte transfer was fragmented on the underlay (${fragmented} fragments made or reassembled)`
        : pmtu
          ? `the ${transferBytes}-byte transfer only got through because ${p.src.ns} was told "fragmentation needed" and lowered its path MTU to ${pmtu}: its full-size segments did not fit the overlay (where that ICMP is lost or never sent, the transfer stalls)`
          : undefined;
  return verdict('6-mtu', ev, reason);
}

/** Without a transfer: every app-subnet link of the split's namespaces, on both hosts, must be at most the overlay's MTU, or a full-size TCP segment cannot cross. */
function mtuOfLinks(c: Ctx, ev: Evidence[], why: string): Verdict {
  const links = [
    ...c.sa.namespaces.filter((n) => (split.a as readonly string[]).includes(n.name)).map((n) => ({ host: c.a.name, n })),
    ...c.sb.namespaces.filter((n) => (split.b as readonly string[]).includes(n.name)).map((n) => ({ host: c.b.name, n })),
  ].flatMap(({ host, n }) => n.links.filter((l) => l.addresses.some((x) => cidrHas(SUBNET, x))).map((l) => ({ where: `${host} ${n.name} ${l.ifname}`, mtu: l.mtu })));
  ev.push(...[c.sa, c.sb].flatMap((s) => s.evidence.filter((e) => /ip -n \S+ -j addr show/.test(e.command))));
  const big = links.filter((l) => l.mtu > mtu.overlay);
  return verdict(
    '6-mtu',
    ev,
    big.length ? `${why}; and ${big.map((l) => `${l.where} has MTU ${l.mtu}`).join(', ')}: more than the overlay's ${mtu.overlay}, so its full-size segments do not fit` : undefined,
  );
}

export function addresses(c: Ctx): Verdict {
  const ev = [c.sa, c.sb].flatMap((s) => s.evidence.filter((e) => e.command.includes('addr show')));
  const app = (h: HostState) => new Set([...h.rootAddresses.map((x) => x.address), ...h.namespaces.flatMap((n) => n.links.flatMap((l) => l.addresses))].filter((x) => cidrHas(SUBNET, x)));
  const onB = app(c.sb);
  const both = [...app(c.sa)].filter((x) => onB.has(x));
  const gateway = c.sa.rootAddresses.some((x) => x.ifname === vxlan.bridge && x.address === gatewayOnA);
  const reason = both.length ? `on both hosts: ${both.join(', ')}` : gateway ? undefined : `${c.a.name}'s ${vxlan.bridge} lacks ${gatewayOnA}`;
  return verdict('6-addresses', ev, reason);
}

const seedAt = (name: string) => seed.find((n) => n.name === name)!;

interface Answer {
  code: number;
  body: unknown;
}

/** An HTTP request from host A's own namespace (on its br-app), as a learner would curl it. */
async function http(m: Machine, ev: Evidence[], url: string, post?: unknown): Promise<Answer> {
  const send = post === undefined ? [] : ['-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify(post)];
  const r = await exec(m, ['curl', '-s', '-m', '10', '-w', '\n%{http_code}', ...send, url], ev, 15_000);
  const lines = r.stdout.split('\n');
  const code = Number(lines.pop()) || 0;
  let body: unknown;
  try {
    body = JSON.parse(lines.join('\n'));
  } catch {
    body = lines.join('\n');
  }
  return { code, body };
}

/** How many orders a GET /api/orders shows: a listing (an array), or the count ecomnet's order service tells a stranger; undefined when it shows neither. */
function ordersShown(a: Answer): number | undefined {
  if (a.code !== 200) return undefined;
  if (Array.isArray(a.body)) return a.body.length;
  const count = (a.body as { count?: unknown } | null)?.count;
  return typeof count === 'number' ? count : undefined;
}

const said = (a: Answer) => `${a.code || 'no answer'} ${typeof a.body === 'string' ? a.body.slice(0, 200) : JSON.stringify(a.body).slice(0, 200)}`;

export async function endToEnd(c: Ctx): Promise<Verdict> {
  const ev: Evidence[] = [];
  const nginx = seedAt('nginx-lb');
  const api = `http://${nginx.ip}:${nginx.port}/api`;
  const problems: string[] = [];
  const listed = await http(c.a, ev, `${api}/products`);
  if (listed.code !== 200 || !isDeepStrictEqual(listed.body, products)) problems.push(`GET /api/products through nginx answered ${said(listed)}, not the seed's ${products.length} products`);
  const before = ordersShown(await http(c.a, ev, `${api}/orders`));
  const created = await http(c.a, ev, `${api}/orders`, order);
  const body = (created.body ?? {}) as Record<string, unknown>;
  if (created.code !== 201 || !Object.entries(orderCreated).every(([k, v]) => body[k] === v)) {
    problems.push(`POST /api/orders through nginx answered ${said(created)}, not 201 ${JSON.stringify(orderCreated)}`);
  } else if (before !== undefined) {
    const after = ordersShown(await http(c.a, ev, `${api}/orders`));
    if (after !== before + 1) problems.push(`GET /api/orders showed ${before} orders before the POST and ${after ?? 'none'} after, not ${before + 1}`);
  } else if (typeof body.order_id === 'number') {
    // The seed's gateway lists no orders: its order service reads one back by id.
    const svc = seedAt('order-service');
    const back = await http(c.a, ev, `http://${svc.ip}:${svc.port}/orders/${body.order_id}`);
    const row = (back.body ?? {}) as Record<string, unknown>;
    const same = back.code === 200 && Object.entries(order).every(([k, v]) => (typeof v === 'number' ? Number(row[k]) === v : row[k] === v));
    if (!same) problems.push(`order ${body.order_id} read back from the order service (GET /orders/${body.order_id}) is ${said(back)}, not what was sent`);
  } else {
    problems.push('the order was answered but cannot be seen stored: GET /api/orders shows no orders and the POST gave no order_id to read back');
  }
  if (problems.length === 0) return verdict('6-e2e', ev);
  // What host A's services cannot reach on host B, said with the failure.
  const data = split.b.map(seedAt);
  const probes = await Promise.all(data.map((d) => exec(c.a, ['nc', '-z', '-w', '2', d.ip, String(d.port)], ev)));
  const unreachable = data.filter((_, i) => probes[i]!.exitCode !== 0).map((d) => `${d.ip}:${d.port} (${d.name} on ${c.b.name})`);
  if (unreachable.length) problems.push(`from ${c.a.name} nothing answers on ${unreachable.join(', ')}`);
  return verdict('6-e2e', ev, problems.join('; '));
}
