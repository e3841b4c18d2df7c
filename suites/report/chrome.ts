/**
 * Finds a Chrome or Chromium for the browser check where Ubuntu runners and developers keep
 * one: $CHROME_PATH first, then the usual names on PATH, then their usual install locations.
 * A candidate counts only if `--version` runs: Ubuntu's /usr/bin/chromium-browser is a shim
 * that fails without its snap.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROME_NAMES = ['google-chrome', 'google-chrome-stable', 'chromium', 'chromium-browser'];

export const CHROME_LOCATIONS = [...['/usr/bin', '/usr/local/bin'].flatMap((dir) => CHROME_NAMES.map((name) => join(dir, name))), '/opt/google/chrome/chrome', '/snap/bin/chromium'];

export type ChromeSearch = { found: true; path: string; version: string } | { found: false; reason: string };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first line of `--version`, or undefined when the binary does not run. */
function versionOf(file: string): string | undefined {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  const line = r.stdout?.trim().split('\n')[0];
  return r.status === 0 && line ? line : undefined;
}

export function findChrome(env: NodeJS.ProcessEnv = process.env, locations: string[] = CHROME_LOCATIONS): ChromeSearch {
  // An explicit choice is used or reported, never silently replaced by another browser.
  if (env.CHROME_PATH) {
    const version = isExecutable(env.CHROME_PATH) ? versionOf(env.CHROME_PATH) : undefined;
    return version ? { found: true, path: env.CHROME_PATH, version } : { found: false, reason: `CHROME_PATH=${env.CHROME_PATH} is not an executable whose --version runs` };
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = new Set([...CHROME_NAMES.flatMap((name) => dirs.map((dir) => join(dir, name))), ...locations]);
  const broken: string[] = [];
  for (const file of candidates) {
    if (!isExecutable(file)) continue;
    const version = versionOf(file);
    if (version) return { found: true, path: file, version };
    broken.push(file);
  }
  const failing = broken.length ? ` (${broken.join(', ')} present, but --version failed)` : '';
  return {
    found: false,
    reason: `no Chrome or Chromium: CHROME_PATH is unset, none of ${CHROME_NAMES.join(', ')} on PATH, none at ${locations.join(', ')}${failing}; install one (apt-get install chromium) or set CHROME_PATH`,
  };
}

/**
 * Headless Chrome or Chromium with a profile in `dir`, offline: every request whose URL does not
 * start with `allowed` is refused and its URL pushed to `refused`, for the test to assert none was.
 */
export async function launchOffline(path: string, dir: string, allowed: string, refused: string[]): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: path,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(allowed)) return route.continue();
    refused.push(url);
    return route.abort();
  });
  return context;
}
