import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../src/topology/default.ts';
import { order } from '../../src/grader/contract.ts';
import { startObserver } from '../../src/observe/observer.ts';
import { pairDelta } from '../../src/observe/traffic.ts';
import type { Observer, Snapshot } from '../../src/observe/types.ts';
import { serviceAddress } from '../../src/plan/policy.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { pairLabel, requestPath, trafficCapture, type TrafficStep } from '../../src/report/traffic.ts';
import type { TrafficCapture, TrafficRow } from '../../src/report/types.ts';
import { burstCurl, parseBurst, type BurstRequest } from '../support/burst.ts';
import { client, hostAddress, nsCommand, port } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { platformInfo, runDir } from '../support/platform.ts';

/**
 * The course's traffic analysis: a burst of known size from the external client through host
 * port 8080, and what `ecomnet observe` counted on each pair of namespaces from the kernel's
 * conntrack tables (the observer's sample once the platform has settled after the burst minus the one before). The request
 * path must carry it, in the amounts the services' design implies, and every other pair nothing.
 */

const info = platformInfo();
const GETS = 200;
const POSTS = 20;
const burst: BurstRequest[] = [
  { method: 'GET', path: '/api/products', count: GETS },
  { method: 'POST', path: '/api/orders', count: POSTS, body: order },
];
const requests = GETS + POSTS;
// The burst takes about a second: sampled four times a second, its chart is a curve, not one point.
const INTERVAL_MS = 250;
/** Samples kept either side of the burst for the chart. */
const CONTEXT = 4;
const names = [...topology.app.nodes.map((n) => n.name), client.name];
const lb = nodeOf('nginx');
const gw = nodeOf('gateway');
const product = nodeOf('product');
const orders = nodeOf('order');
// nginx's `worker_processes auto`: one worker per online CPU of this host.
const nginxWorkers = cpus().length;
let observer: Observer | undefined;
let capture: TrafficCapture | undefined;

/** The next sample the observer takes on its own interval. */
const nextSample = (o: Observer) =>
  new Promise<Snapshot>((resolve) => {
    const off = o.subscribe((s) => {
      off();
      resolve(s);
    });
  });

/** What the burst test recorded; the tests after it judge it. */
function captured(): TrafficCapture {
  if (!capture) throw new Error('no capture: the burst test did not get as far as the observer');
  return capture;
}

/** The path pair from `from` to `to` (by name), or to whatever answers on `port` (the data layer, wherever it runs). */
function row(from: string, to: { name?: string; port?: number }): TrafficRow {
  const c = captured();
  const r = c.rows.find((x) => x.onPath && x.from === from && (to.name === undefined || x.to === to.name) && (to.port === undefined || x.port === to.port));
  if (!r)
    throw new Error(
      `${from} -> ${JSON.stringify(to)} is not on the request path: ${c.rows
        .filter((x) => x.onPath)
        .map(pairLabel)
        .join(', ')}`,
    );
  return r;
}

/** Where the data layer answers in this mode: its namespace's port, or the one published on the bridge address. */
const dataPort = (c: 'redis' | 'postgres') => serviceAddress(topology, nodeOf(c), info.data)!.port;
/** Where the data layer's traffic must be counted: its namespace, or in containers mode the host or the container behind its DNAT. */
const dataEnd = (c: 'redis' | 'postgres') => (info.data === 'native' ? new RegExp(`^${nodeOf(c).name}$`) : /^(host|container:.+)$/);

if (info.networkOnly) console.log('traffic analysis: skipped: the platform is network-only, no service answers a request');
describe.skipIf(info.networkOnly)(`traffic analysis: ${requests} requests from ${client.name} through host :${port}, counted per pair by the observer`, () => {
  beforeAll(async () => {
    // The platform's run directory: the observer logs in to PostgreSQL with its credentials.
    const o = await startObserver({ intervalMs: INTERVAL_MS, runDir });
    observer = o;
    // Samples of the quiet platform before the burst: the chart's baseline.
    for (let i = 0; i < CONTEXT; i++) await nextSample(o);
  });
  afterAll(async () => {
    await observer?.stop();
  });

  it(`sends ${GETS} GET /api/products and ${POSTS} POST /api/orders in one curl, each on its own connection, and records the pairs`, async () => {
    const o = observer!;
    const before = await o.sample();
    const startedAt = new Date().toISOString();
    const r = await recordedShell(`set -o pipefail; ${nsCommand(client.name, burstCurl(`http://${hostAddress}:${port}`, burst))}`, { timeoutMs: 120_000 });
    const endedAt = new Date().toISOString();
    expect(r.exitCode, r.stderr).toBe(0);
    const sent = parseBurst(r.stdout);
    expect(sent.errors).toEqual([]);
    // Every request answered as the seed says (nginx's order limit lets a burst of 20 through).
    expect(sent.requests.map((q) => `${q.method} ${q.path} ${JSON.stringify(q.statuses)}`)).toEqual([`GET /api/products {"200":${GETS}}`, `POST /api/orders {"201":${POSTS}}`]);
    // A sample that began reading after the burst ended (not one already in flight during it).
    let after = await o.sample();
    while (after.at < endedAt) after = await o.sample();
    // As many after it: the chart shows the platform settle.
    let settled = after;
    for (let i = 0; i < CONTEXT; i++) settled = await nextSample(o);
    const history = o.history().filter((s) => s.seq >= before.seq - CONTEXT);
    const steps: TrafficStep[] = history.slice(1).map((s, i) => ({ at: s.at, seconds: (Date.parse(s.at) - Date.parse(history[i]!.at)) / 1000, delta: pairDelta(history[i]!, s) }));
    // Up to the last of them: a read taken while the burst's connections close can miss a
    // connection, whose packets the next read that lists it counts (traffic.ts).
    const delta = pairDelta(before, settled);
    // The data layer published on the bridge address (containers mode) is the host's, or the
    // container the host's DNAT sent it to: whichever the observer counted the service's traffic on.
    const destinationOf = (from: string, ip: string, dport: number) =>
      delta.find((p) => p.from === from && p.proto === 'tcp' && p.port === dport && p.packetsOut > 0 && (p.to === 'host' || p.to.startsWith('container:')))?.to ??
      after.endpoints.find((e) => e.ips.includes(ip))?.id;
    capture = trafficCapture({
      data: info.data,
      burst: {
        command: r.command,
        from: client.name,
        target: `${hostAddress}:${port}`,
        requests: sent.requests,
        requestBytes: sent.requestBytes,
        responseBytes: sent.responseBytes,
        startedAt,
        endedAt,
      },
      path: requestPath(topology, info.data, destinationOf),
      names,
      delta,
      steps,
    });
    writeFileSync(reportPaths().traffic, JSON.stringify(capture));
    const cols = (x: TrafficRow) => `${pairLabel(x).padEnd(40)} opened ${String(x.opened).padStart(4)}  packets ${x.packetsOut}/${x.packetsIn}  bytes ${x.bytesOut}/${x.bytesIn}`;
    console.log(
      `${capture.summary}\n${capture.rows
        .filter((x) => x.onPath || x.packetsOut + x.packetsIn > 0)
        .map(cols)
        .join('\n')}`,
    );
  });

  it(`${client.name} -> ${lb.name} tcp/${lb.port}: exactly ${requests} connections (Connection: close), at least ${requests} packets each way, at least the bytes curl sent and received`, () => {
    const r = row(client.name, { name: lb.name });
    expect(r.opened).toBe(requests);
    expect(r.packetsOut).toBeGreaterThanOrEqual(requests);
    expect(r.packetsIn).toBeGreaterThanOrEqual(requests);
    // Conntrack counts IP packets: each request's HTTP bytes plus its IP and TCP headers.
    expect(r.bytesOut).toBeGreaterThanOrEqual(captured().burst.requestBytes);
    expect(r.bytesIn).toBeGreaterThanOrEqual(captured().burst.responseBytes);
  });

  it(`${lb.name} -> ${gw.name} tcp/${gw.port}: every request forwarded (at least ${requests} packets each way) over kept-alive upstream connections, at most 2 new per nginx worker (${nginxWorkers})`, () => {
    // nginx.conf: `keepalive 64` with HTTP/1.1 upstream, so requests reuse a worker's idle connection;
    // the burst is sequential, so a worker needs one at a time, and one more where the gateway
    // closed an idle one (Node's 5 s keep-alive timeout) just as nginx picked it.
    const r = row(lb.name, { name: gw.name });
    expect(r.packetsOut).toBeGreaterThanOrEqual(requests);
    expect(r.packetsIn).toBeGreaterThanOrEqual(requests);
    expect(r.opened).toBeLessThanOrEqual(2 * nginxWorkers);
  });

  it(`${gw.name} -> ${product.name} tcp/${product.port}: at least ${GETS} packets out (one upstream request per GET); ${gw.name} -> ${orders.name}: at least ${POSTS}`, () => {
    expect(row(gw.name, { name: product.name }).packetsOut).toBeGreaterThanOrEqual(GETS);
    expect(row(gw.name, { name: orders.name }).packetsOut).toBeGreaterThanOrEqual(POSTS);
  });

  it(`${product.name} -> Redis: at least ${GETS} packets out (the list is cached: each GET is one GET all_products on its one connection, a miss adds a SETEX)`, () => {
    const r = row(product.name, { port: dataPort('redis') });
    expect(r.to).toMatch(dataEnd('redis'));
    expect(r.packetsOut).toBeGreaterThanOrEqual(GETS);
    expect(r.packetsIn).toBeGreaterThanOrEqual(GETS);
  });

  it(`${orders.name} -> PostgreSQL: at least ${POSTS} packets out (each POST without an Idempotency-Key is one INSERT)`, () => {
    const r = row(orders.name, { port: dataPort('postgres') });
    expect(r.to).toMatch(dataEnd('postgres'));
    expect(r.packetsOut).toBeGreaterThanOrEqual(POSTS);
    expect(r.packetsIn).toBeGreaterThanOrEqual(POSTS);
  });

  it(`no traffic at all on any pair among the six namespaces and ${client.name} that the request path does not use`, () => {
    const off = captured().rows.filter((x) => !x.onPath);
    expect(off.length).toBeGreaterThan(0);
    expect(off.filter((x) => x.opened + x.packetsOut + x.packetsIn > 0).map((x) => `${pairLabel(x)}: ${x.opened} opened, ${x.packetsOut}/${x.packetsIn} packets`)).toEqual([]);
  });

  it('the per-second series spans the burst: a path pair carried bytes in some sample after it started', () => {
    const { t, lines } = captured().series;
    expect(t.length).toBeGreaterThanOrEqual(2 * CONTEXT);
    const first = lines[0]!.bytesPerSecond;
    expect(first.some((v, i) => t[i]! > 0 && v > 0)).toBe(true);
  });
});
