/**
 * The page of `ecomnet observe` in headless Chrome or Chromium, fed by a synthetic observer
 * through the real server: what a person watching it sees when traffic flows and a service
 * goes down and comes back. The screenshot lands in reports/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeNamed, nodeOf, topology } from '../../src/topology/default.ts';
import { type ObserverServer, serveObserver } from '../../src/observe/server.ts';
import { relativeTo, reportPaths } from '../../src/report/paths.ts';
import { BURST, type Flow, SyntheticObserver } from '../support/observe-synthetic.ts';
import { findChrome, launchOffline } from './chrome.ts';

const browser = findChrome();
if (!browser.found) console.warn(`observe page check skipped: ${browser.reason}`);

/** The row background of an unhealthy service (page.css --bad-bg). */
const RED_ROW = 'rgb(253, 226, 226)';
const services = topology.app.nodes.map((n) => n.name);
/** The host's health probes: a trickle to every service, as the real observer sees them. */
const probes: Flow[] = topology.app.nodes.map((n) => ({ from: 'host', to: n.name, port: n.port, bytesPerSecond: 300, packetsPerSecond: 6, connectionsPerSecond: 1 }));

describe('the live page of ecomnet observe, in Chrome or Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-observe-page-'));
  const observer = new SyntheticObserver();
  const offServer: string[] = [];
  let server: ObserverServer | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!browser.found) return;
    // A few minutes' history before the page opens: the charts start full.
    for (let i = 0; i < 90; i++) observer.next({ flows: i % 20 < 5 ? [...probes, ...BURST.slice(0, 3 + (i % 3))] : probes });
    server = await serveObserver(observer);
    // Everything the page loads comes from its own server: anything else is refused and noted.
    context = await launchOffline(browser.path, dir, `${new URL(server.url).origin}/`, offServer);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Make a sample and return how long the page took to show it (its #updated says its seq). */
  async function shown(page: Page, change: Parameters<SyntheticObserver['next']>[0]): Promise<number> {
    const t0 = Date.now();
    const s = observer.next(change);
    await page.waitForFunction((seq) => document.getElementById('updated')?.dataset.seq === String(seq), s.seq, { timeout: 2000 });
    return Date.now() - t0;
  }

  it('shows every service healthy, traffic on the request path only, a service red within 2 s of going down and green after; loads nothing from elsewhere', async ({ annotate, skip }) => {
    if (!browser.found || !context || !server) return skip(browser.found ? 'the browser did not start' : browser.reason);
    await annotate(`browser: ${browser.path} (${browser.version})`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // A Content-Security-Policy violation is reported on the console, as an error.
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(server.url);
    expect(await page.title()).toBe('ecomnet observe');
    await page.waitForFunction((seq) => document.getElementById('updated')?.dataset.seq === String(seq), observer.latest()!.seq, { timeout: 5000 });
    await expect.poll(() => page.locator('#link').getAttribute('data-state')).toBe('live');

    // Every service, healthy, with its latency sparkline (uPlot's canvas) and no red.
    for (const name of services) {
      const row = page.locator(`[data-health="${name}"]`);
      expect(await row.getAttribute('data-state'), name).toBe('healthy');
      expect(await row.evaluate((e) => getComputedStyle(e).backgroundColor), name).not.toBe(RED_ROW);
      expect(await row.locator('.spark canvas').count(), `${name}'s sparkline`).toBe(1);
      expect(await page.locator(`[data-node="${name}"]`).getAttribute('data-state'), name).toBe('ok');
    }
    for (const n of topology.outside.nodes) expect(await page.locator(`[data-node="${n.name}"]`).count(), n.name).toBe(1);
    // The app namespaces in a row in address order (the request path left to right), each labelled with its own address.
    const drawn = await page
      .locator('[data-node]')
      .evaluateAll((nodes) =>
        nodes.map((n) => ({ id: n.getAttribute('data-node'), box: { x: n.getBoundingClientRect().x, y: n.getBoundingClientRect().y }, ip: n.querySelector('.ip')?.textContent })),
      );
    const appRow = drawn.filter((n) => services.includes(n.id!));
    expect(appRow.sort((a, b) => a.box.x - b.box.x).map((n) => n.id)).toEqual(services);
    expect(new Set(appRow.map((n) => n.box.y)).size).toBe(1);
    for (const n of topology.app.nodes) expect(appRow.find((r) => r.id === n.name)?.ip).toBe(n.ip);
    expect(drawn.find((n) => n.id === 'host')?.ip).toBe(`${topology.app.bridge.ip} · ${topology.outside.bridge.ip}`);
    expect(await page.locator('[data-node="host"]').count()).toBe(1);
    // The traffic chart: uPlot, seeded from the history, a line for the total and the busiest pairs.
    expect(await page.locator('#traffic-chart canvas').count()).toBe(1);
    expect(await page.locator('#traffic-chart .u-legend').textContent()).toContain('nginx-lb → api-gateway');

    // A burst: the request path's edges carry it, with their rates; a pair off the path has no edge at all.
    const took = await shown(page, { flows: [...probes, ...BURST] });
    expect(took).toBeLessThan(2000);
    const edge = page.locator('[data-edge="nginx-lb>api-gateway"]');
    expect(await edge.getAttribute('data-bytes-rate')).toBe('52000');
    expect(Number(await edge.getAttribute('data-bytes'))).toBe(
      observer.latest()!.pairs.find((p) => p.from === 'nginx-lb' && p.to === 'api-gateway')!.bytesOut + observer.latest()!.pairs.find((p) => p.from === 'nginx-lb' && p.to === 'api-gateway')!.bytesIn,
    );
    expect(await edge.getAttribute('data-active')).toBe('true');
    const label = edge.locator('text');
    expect(await label.allTextContents()).toEqual(['51 KiB/s', '180 pkt/s · 2 conn/s']);
    for (const [from, to] of [
      ['nginx-lb', 'product-service'],
      ['product-service', 'postgres-db'],
      ['ext-client', 'api-gateway'],
    ]) {
      expect(await page.locator(`[data-edge="${from}>${to}"]`).count(), `${from}>${to}`).toBe(0);
    }
    expect(await page.locator('[data-talker="nginx-lb>api-gateway"]').count()).toBe(1);
    expect(await page.locator('#protocols [data-proto="tcp"]').textContent()).toMatch(/TCP/);

    // Quiet again: the same edge is drawn idle, with no rate.
    await shown(page, { flows: probes });
    expect(await edge.getAttribute('data-bytes-rate')).toBe('0');
    expect(await edge.getAttribute('data-active')).toBe('false');
    const [idle, total] = await label.allTextContents();
    expect(idle).toBe('idle');
    expect(total).toMatch(/^[\d.]+ (KiB|MiB) so far$/);

    // The product service stops answering: its row and node turn red at the first sample saying so.
    const row = page.locator('[data-health="product-service"]');
    const red = await shown(page, { flows: probes.filter((f) => f.to !== 'product-service'), down: ['product-service'] });
    expect(red, 'the page shows the unhealthy sample within 2 s').toBeLessThan(2000);
    expect(await row.getAttribute('data-state')).toBe('unhealthy');
    expect(await row.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(RED_ROW);
    expect(await row.textContent()).toContain('ECONNREFUSED');
    expect(await page.locator('[data-node="product-service"]').getAttribute('data-state')).toBe('bad');
    for (const name of services.filter((s) => s !== 'product-service')) expect(await page.locator(`[data-health="${name}"]`).getAttribute('data-state'), name).toBe('healthy');

    const shots = reportPaths().reports;
    mkdirSync(shots, { recursive: true });
    const shot = join(shots, 'observe-synthetic.png');
    await page.screenshot({ path: shot, fullPage: true });
    await annotate(`screenshot: ${relativeTo(process.cwd(), shot)}`);

    // Back: green again.
    await shown(page, { flows: probes });
    expect(await row.getAttribute('data-state')).toBe('healthy');
    expect(await row.evaluate((e) => getComputedStyle(e).backgroundColor)).not.toBe(RED_ROW);
    expect(await page.locator('[data-node="product-service"]').getAttribute('data-state')).toBe('ok');

    // A namespace talking to itself (the seed's `curl localhost:3000` inside the gateway): a loop of its own, with its rate.
    await shown(page, { flows: [...probes, { from: 'api-gateway', to: 'api-gateway', port: 3000, bytesPerSecond: 2048, packetsPerSecond: 8, connectionsPerSecond: 1 }] });
    const self = page.locator('[data-edge="api-gateway>api-gateway"]');
    expect(await self.locator('text').allTextContents()).toEqual(['2.0 KiB/s', '8 pkt/s · 1 conn/s']);
    // Drawn as a loop one can see, not an arc from a point to itself.
    expect((await self.locator('path').boundingBox())!.width).toBeGreaterThan(20);

    // Containers mode: the data layer is Docker's, drawn beside the host, its traffic an edge like any other.
    await shown(page, { flows: [...probes, { from: 'order-service', to: 'container:ecomnet-postgres', port: 5432, bytesPerSecond: 4096 }], containers: ['ecomnet-postgres', 'ecomnet-redis'] });
    for (const c of ['container:ecomnet-postgres', 'container:ecomnet-redis']) {
      const box = await page.locator(`[data-node="${c}"] rect`).boundingBox();
      expect(box, c).not.toBeNull();
      expect(await page.locator(`[data-node="${c}"] .name`).textContent()).toBe(c);
      // Its name fits its box.
      expect((await page.locator(`[data-node="${c}"] .name`).boundingBox())!.width).toBeLessThan(box!.width);
    }
    expect(await page.locator('[data-edge="order-service>container:ecomnet-postgres"]').getAttribute('data-bytes-rate')).toBe('4096');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);

    // A namespace whose link is down: its node red, though no service of its own says so.
    await shown(page, { flows: probes, linkDown: ['ext-client'] });
    expect(await page.locator('[data-node="ext-client"]').getAttribute('data-state')).toBe('bad');
    await shown(page, { flows: probes });
    expect(await page.locator('[data-node="ext-client"]').getAttribute('data-state')).toBe('ok');

    // An observer that stops sampling while the stream stays open: said, in red, after three intervals.
    const link = page.locator('#link');
    await page.waitForFunction(() => document.getElementById('link')?.dataset.state === 'stale', undefined, { timeout: 5000 });
    expect(await link.textContent()).toMatch(/^no sample for \d+ s$/);
    expect(await link.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(185, 28, 28)');
    await shown(page, { flows: probes });
    expect(await link.getAttribute('data-state')).toBe('live');

    // It fits the 1280-pixel window it was designed for: nothing scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    expect(offServer).toEqual([]);
    expect(errors).toEqual([]);

    // Without the token of the URL printed, another local user's browser gets no page and no data.
    const stranger = await context.newPage();
    const origin = new URL(server.url).origin;
    for (const path of ['/', '/history.json', '/snapshot.json']) expect((await stranger.goto(`${origin}${path}`))?.status(), path).toBe(401);
    expect(await stranger.evaluate(() => fetch('/events').then((r) => r.status))).toBe(401);
  }, 60_000);

  it('draws the declared flows and the pairs that carried traffic, the undeclared one marked, none of the idle pairs', async ({ skip }) => {
    if (!browser.found || !context) return skip(browser.found ? 'the browser did not start' : browser.reason);
    const forward = topology.portForwards[0]!;
    const path = [{ from: nodeOf('client').name, to: forward.node, port: forward.port }, ...topology.flows!.map((f) => ({ from: f.from, to: f.to, port: f.port ?? nodeNamed(f.to).port }))];
    const onPath = (from: string, to: string) => path.some((p) => p.from === from && p.to === to);
    // Every other ordered pair of app namespaces holds a connection open and carries nothing: drawn today as a grey arc each.
    const news: Flow = { from: nodeOf('redis').name, to: nodeOf('postgres').name, port: nodeOf('postgres').port, bytesPerSecond: 2048 };
    const idle = topology.app.nodes.flatMap((a) =>
      topology.app.nodes.filter((b) => b !== a && !onPath(a.name, b.name) && !(a.name === news.from && b.name === news.to)).map((b) => ({ from: a.name, to: b.name, port: b.port })),
    );
    const own = new SyntheticObserver();
    own.next({ open: idle, flows: [...path.slice(0, 3).map((p) => ({ ...p, bytesPerSecond: 4096 })), news] });
    const s = own.next({ open: idle, flows: path.slice(0, 3).map((p) => ({ ...p, bytesPerSecond: 4096 })) });
    expect(s.pairs.length).toBeGreaterThanOrEqual(idle.length + 4);
    const ownServer = await serveObserver(own);
    try {
      await context.route(`${new URL(ownServer.url).origin}/**`, (route) => route.continue());
      const page = await context.newPage();
      await page.goto(ownServer.url);
      await page.waitForFunction((seq) => document.getElementById('updated')?.dataset.seq === String(seq), s.seq, { timeout: 5000 });
      const arcs = await page
        .locator('[data-edge]')
        .evaluateAll((es) => es.map((e) => ({ edge: e.getAttribute('data-edge'), arc: e.getAttribute('data-arc'), text: [...e.querySelectorAll('text')].map((t) => t.textContent) })));
      expect(arcs.map((a) => a.edge).sort()).toEqual([...path, news].map((p) => `${p.from}>${p.to}`).sort());
      for (const [i, p] of path.entries()) {
        const a = arcs.find((x) => x.edge === `${p.from}>${p.to}`)!;
        expect(a.arc, a.edge!).toBe(i < 3 ? 'declared' : 'declared-idle');
        if (i >= 3) expect(a.text[0], a.edge!).toBe('declared, idle');
      }
      // Quiet now, but it carried traffic the topology does not declare: drawn, and said.
      const undeclared = arcs.find((x) => x.edge === `${news.from}>${news.to}`)!;
      expect(undeclared.arc).toBe('undeclared');
      expect(undeclared.text).toContain('not declared');
      expect(await page.locator('#topology h2 small').textContent()).toContain(`${idle.length} pairs with connections open and nothing counted, not drawn`);
      await page.locator('#topology').screenshot({ path: join(reportPaths().reports, 'observe-declared.png') });
      await page.close();
    } finally {
      await ownServer.close();
    }
  }, 60_000);
});
