import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROME_LOCATIONS, CHROME_NAMES, findChrome } from './chrome.ts';

const base = mkdtempSync(join(tmpdir(), 'ecomnet-chrome-'));
let n = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A fake browser at dir/name: a script printing `version`, or failing as Ubuntu's snap shim does. */
function fake(name: string, version: string | null, mode = 0o755): string {
  const dir = join(base, String(n++));
  mkdirSync(dir);
  const file = join(dir, name);
  writeFileSync(file, version === null ? '#!/bin/sh\necho "requires the chromium snap" >&2\nexit 1\n' : `#!/bin/sh\necho "${version}"\n`);
  chmodSync(file, mode);
  return file;
}

describe('findChrome', () => {
  it('uses CHROME_PATH before anything on PATH', () => {
    const chosen = fake('my-chrome', 'Google Chrome 200.0.1');
    const onPath = fake('chromium', 'Chromium 199.0');
    expect(findChrome({ CHROME_PATH: chosen, PATH: dirname(onPath) }, [])).toEqual({ found: true, path: chosen, version: 'Google Chrome 200.0.1' });
  });

  it('reports a CHROME_PATH that does not run instead of falling back to another browser', () => {
    const onPath = fake('chromium', 'Chromium 199.0');
    const search = findChrome({ CHROME_PATH: join(base, 'absent'), PATH: dirname(onPath) }, []);
    expect(search).toEqual({ found: false, reason: expect.stringContaining(`CHROME_PATH=${join(base, 'absent')}`) });
  });

  it('takes the names in order along PATH: google-chrome before chromium, earlier directories first', () => {
    const chromium = fake('chromium', 'Chromium 199.0');
    const chrome = fake('google-chrome', 'Google Chrome 200.0');
    const later = fake('google-chrome', 'Google Chrome 100.0');
    const found = findChrome({ PATH: [dirname(chromium), dirname(chrome), dirname(later)].join(':') }, []);
    expect(found).toEqual({ found: true, path: chrome, version: 'Google Chrome 200.0' });
  });

  it('passes over a file that is not executable and a shim whose --version fails, then tries the known locations', () => {
    const plain = fake('chromium', 'Chromium 1.0', 0o644);
    const shim = fake('chromium-browser', null);
    const known = fake('chrome', 'Google Chrome 201.0');
    expect(findChrome({ PATH: `${dirname(plain)}:${dirname(shim)}` }, [known])).toEqual({ found: true, path: known, version: 'Google Chrome 201.0' });
  });

  it('says what it looked for when there is none', () => {
    const shim = fake('chromium-browser', null);
    const search = findChrome({ PATH: dirname(shim) }, ['/nonexistent/chrome']);
    expect(search.found).toBe(false);
    const reason = search.found ? '' : search.reason;
    for (const name of CHROME_NAMES) expect(reason).toContain(name);
    expect(reason).toContain('/nonexistent/chrome');
    expect(reason).toContain(`${shim} present, but --version failed`);
    expect(reason).toContain('CHROME_PATH is unset');
  });

  it('knows where Ubuntu, Google and snap put them', () => {
    expect(CHROME_LOCATIONS).toEqual(expect.arrayContaining(['/usr/bin/google-chrome', '/usr/bin/chromium', '/usr/local/bin/chromium', '/opt/google/chrome/chrome', '/snap/bin/chromium']));
  });
});
