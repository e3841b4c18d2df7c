/**
 * Opens a rendered report in headless Chrome or Chromium, as a reader would open the file from
 * disk, and checks what is on screen. The real report exists only after a run, so this renders
 * a synthetic one; the screenshots land in reports/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { namespaces } from '../../src/grader/contract.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { relativeTo, reportPaths } from '../../src/report/paths.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { findChrome, launchOffline } from './chrome.ts';
import { FAILING, syntheticInput } from './synthetic.ts';

const browser = findChrome();
if (browser.found) console.log(`browser check: ${browser.path} (${browser.version})`);
else console.warn(`browser check skipped: ${browser.reason}`);

describe('deliverables.html in Chrome or Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-browser-'));
  const file = join(dir, 'deliverables.html');
  const offDisk: string[] = [];
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!browser.found) return;
    writeFileSync(file, renderDeliverables(syntheticInput()));
    // The report must be self-contained: anything it asks for beyond the file is refused and noted.
    context = await launchOffline(browser.path, dir, 'file:', offDisk);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the red verdict first, all 27 deliverables, the network diagram and the traffic analysis, fetching nothing', async ({ annotate, skip }) => {
    if (!browser.found || !context) return skip(browser.found ? 'the browser did not start' : browser.reason);
    await annotate(`browser: ${browser.path} (${browser.version})`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);

    // The synthetic run has a failing deliverable: the first thing on screen must say the run failed, in red.
    const verdict = page.locator('header .verdict');
    expect(await verdict.textContent()).toMatch(/^run FAILED · tests: /);
    expect((await verdict.boundingBox())!.y).toBeLessThan(900);
    expect(await verdict.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(185, 28, 28)');
    for (const d of deliverables) {
      await expect.poll(() => page.locator(`[data-deliverable="${d.id}"]`).isVisible()).toBe(true);
    }
    const diagram = page.locator('#diagram svg');
    expect(await diagram.isVisible()).toBe(true);
    expect((await diagram.boundingBox())!.width).toBeGreaterThan(600);
    // The diagram discovered on the host: each of the seed's namespaces is drawn.
    for (const n of namespaces) expect(await page.locator(`#diagram [data-node="${n.name}"]`).count(), n.name).toBe(1);
    expect(await page.locator(`#d-${FAILING.replace(/\./g, '\\.')} .failure`).isVisible()).toBe(true);
    expect(await page.title()).toBe(`${topology.tag} deliverables: run failed`);
    // The traffic analysis: one row per pair, its two charts drawn inline.
    const traffic = page.locator('#traffic');
    expect(await traffic.locator('h2').textContent()).toBe('Traffic analysis');
    const names = [...topology.app.nodes.map((n) => n.name), 'ext-client'];
    expect(await traffic.locator('tr[data-pair]').count()).toBe(names.length * (names.length - 1));
    expect(await traffic.locator('tr[data-on-path="true"]').count()).toBe(topology.flows!.length + 1);
    for (const chart of ['traffic-bars', 'traffic-series']) {
      const svg = traffic.locator(`svg[data-chart="${chart}"]`);
      expect(await svg.isVisible(), chart).toBe(true);
      expect((await svg.boundingBox())!.width, chart).toBeGreaterThan(600);
    }
    expect(offDisk).toEqual([]);
    expect(errors).toEqual([]);

    const shots = reportPaths().reports;
    mkdirSync(shots, { recursive: true });
    const preview = join(shots, 'report-preview.png');
    const summary = join(shots, 'report-summary.png');
    const trafficShot = join(shots, 'report-traffic.png');
    await page.screenshot({ path: preview, fullPage: true });
    await page.locator('#summary').screenshot({ path: summary });
    await traffic.screenshot({ path: trafficShot });
    await annotate(`screenshots: ${[preview, summary, trafficShot].map((p) => relativeTo(process.cwd(), p)).join(', ')}`);
  }, 60_000);
});
