/**
 * The services' compile caches are filled once per version of the code, not on every `up`: the
 * first run fills each (a Node process per service) and keeps a copy that is root's; a later run
 * starts the services on that one, read-only to them, and fills nothing.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, nobody } from '../../src/host/accounts.ts';
import { isRoot, run } from '../../src/host/exec.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { serviceCompileCache, warmCompileCaches } from '../../src/runtime/components.ts';
import { inCheckout } from '../../src/runtime/stage.ts';

/** A data root (where the kept caches go) and run directories of this file's own, on a path only root can change. */
const root = `/var/lib/ecomnet-compile-cache-test-${process.pid}`;
const skip = isRoot ? '' : 'needs root (the kept caches are root’s, each run’s its account’s)';
if (skip) console.log(`compile-cache tests skipped: ${skip}`);

const SERVICES = ['gateway', 'product', 'order'] as const;

/** A run directory with its compile caches' parent made, as prepareServices makes it. */
async function freshRunDir(name: string) {
  const dir = runDirAt(join(root, name));
  await run(['install', '-d', '-m', '0755', dir.compileCache]);
  return dir;
}

/** Fill (or copy in) every service's cache of `dir`, as `up` does, and wait for all. */
async function warm(dir: ReturnType<typeof runDirAt>, a: Account): Promise<void> {
  await Promise.all(Object.values(await warmCompileCaches(dir, { gateway: a, product: a, order: a, nginx: a }, inCheckout)));
}

const filesUnder = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile());

describe.skipIf(Boolean(skip))('compile caches kept between runs', () => {
  const before = process.env.ECOMNET_DATA_DIR;
  beforeAll(async () => {
    await run(['install', '-d', '-m', '0755', root]);
    process.env.ECOMNET_DATA_DIR = join(root, 'data');
  });
  afterAll(async () => {
    if (before === undefined) delete process.env.ECOMNET_DATA_DIR;
    else process.env.ECOMNET_DATA_DIR = before;
    await run(['rm', '-rf', root]);
  });

  it('the first run fills and keeps them (root’s); the next uses those, filling none', async () => {
    const a = nobody();
    const first = await freshRunDir('run-1');
    await warm(first, a);
    const sets = readdirSync(join(root, 'data', 'templates', 'node-cache'));
    expect(sets).toHaveLength(1);
    const kept = join(root, 'data', 'templates', 'node-cache', sets[0]!);
    for (const c of SERVICES) {
      const one = join(kept, `${c}.${a.uid}`);
      expect(filesUnder(one).length).toBeGreaterThan(0);
      // Root's, and no one else may change it: a planted entry would be code run as the service.
      for (const p of ['', ...readdirSync(one, { recursive: true, encoding: 'utf8' })]) {
        const s = statSync(join(one, p));
        expect([s.uid, s.mode & 0o022]).toEqual([0, 0]);
      }
      // This run's own was filled by the account.
      expect(statSync(first.cacheOf(c)).uid).toBe(a.uid);
    }
    const second = await freshRunDir('run-2');
    await warm(second, a);
    for (const c of SERVICES) {
      expect(existsSync(second.cacheOf(c))).toBe(false);
      expect(await serviceCompileCache(second, inCheckout, c, a)).toBe(join(kept, `${c}.${a.uid}`));
    }
  });
});
