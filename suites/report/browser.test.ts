/**
 * Opens a rendered report in headless Chromium, as a reader would open the file from disk,
 * and checks what is on screen. The real report exists only after a run, so this renders a
 * synthetic one; the screenshot lands in reports/ for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { deliverables } from '../../src/report/deliverables.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { FAILING, syntheticInput } from './synthetic.ts';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present) console.warn(`browser check skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

describe.skipIf(!present)('deliverables.html in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-browser-'));
  const file = join(dir, 'deliverables.html');
  const offDisk: string[] = [];
  let context: BrowserContext;

  beforeAll(async () => {
    writeFileSync(file, renderDeliverables(syntheticInput()));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    // The report must be self-contained: anything it asks for beyond the file is refused and noted.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      offDisk.push(url);
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows all 27 deliverables and the network diagram, fetching nothing', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);

    for (const d of deliverables) {
      await expect.poll(() => page.locator(`[data-deliverable="${d.id}"]`).isVisible()).toBe(true);
    }
    const diagram = page.locator('#diagram svg');
    expect(await diagram.isVisible()).toBe(true);
    expect((await diagram.boundingBox())!.width).toBeGreaterThan(600);
    const nodes = topology.app.nodes.length + topology.outside.nodes.length;
    expect(await page.locator('#diagram [data-node]').count()).toBe(nodes);
    expect(await page.locator(`#d-${FAILING.replace(/\./g, '\\.')} .failure`).isVisible()).toBe(true);
    expect(await page.title()).toBe(`${topology.tag} deliverables`);
    expect(offDisk).toEqual([]);
    expect(errors).toEqual([]);

    const shots = reportPaths().reports;
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'report-preview.png'), fullPage: true });
    await page.locator('#summary').screenshot({ path: join(shots, 'report-summary.png') });
  }, 60_000);
});
