import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { READER_ROLE } from '../../src/data/postgres.ts';
import { pgLogin, redisLogin, loginUrl } from '../../src/grader/logins.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { buildFiles, catalogue, mutate, mutateFiles } from '../../setup/catalogue.ts';

const model = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'host-model.json'), 'utf8')) as HostModel;
const learner = (f: string) => readFileSync(join(import.meta.dirname, '..', '..', 'learner', f), 'utf8');
const build = learner('build.sh');
const files = Object.fromEntries(buildFiles.map((f) => [f, learner(f)]));

describe('how the grader logs in to the data layer it found', () => {
  it("uses the seed's login where PostgreSQL was found, and no Redis password", () => {
    expect(pgLogin(model, '')).toEqual({ host: '10.0.0.60', port: 5432, user: 'postgres', password: 'postgres', database: 'orders' });
    expect(redisLogin(model, '')).toEqual({ host: '10.0.0.50', port: 6379, user: 'default' });
  });

  it("takes what a URL gives over the seed's, decoded, and keeps the rest", () => {
    const l = pgLogin(model, 'postgres://app:p%40ss@10.0.0.1:5433/shop');
    expect(l).toEqual({ host: '10.0.0.1', port: 5433, user: 'app', password: 'p@ss', database: 'shop' });
    expect(redisLogin(model, 'redis://:s3cret@10.0.0.1').password).toBe('s3cret');
    expect(redisLogin(model, 'redis://:s3cret@10.0.0.1').port).toBe(6379);
    expect(loginUrl('postgres', l)).toBe('postgres://app:p%40ss@10.0.0.1:5433/shop');
  });

  it('reads ECOMNET_PG_URL and ECOMNET_REDIS_URL when no URL is passed', () => {
    vi.stubEnv('ECOMNET_PG_URL', `postgres://${READER_ROLE}:r%2Fw@10.0.0.60/orders`);
    vi.stubEnv('ECOMNET_REDIS_URL', 'redis://:k3y@10.0.0.50:6380');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    expect(pgLogin(model)).toEqual({ host: '10.0.0.60', port: 5432, user: READER_ROLE, password: 'r/w', database: 'orders' });
    expect(redisLogin(model)).toEqual({ host: '10.0.0.50', port: 6380, user: 'default', password: 'k3y' });
  });
});

describe("the mutation catalogue's edits", () => {
  it('each applies to learner/build.sh or the Phase 2 it sources exactly where it says, and changes it', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(20);
    for (const m of catalogue) expect(mutateFiles(files, m.edits), m.name).not.toEqual(files);
  });

  it('an edit whose text is not in the script, or is there twice, is refused', () => {
    expect(() => mutate(build, [{ find: 'no such line', typed: '' }])).toThrow(/occurs 0 times/);
    expect(() => mutate(build, [{ find: 'br-app', typed: 'br0' }])).toThrow(/occurs \d+ times/);
  });

  it('each declares what must fail and the diagnosis, or the deviation a passing build names', () => {
    for (const m of catalogue) expect(m.deviation ? m.fails.length === 0 : m.fails.length > 0 && Boolean(m.diagnosis), m.name).toBe(true);
    expect(new Set(catalogue.map((m) => m.name)).size).toBe(catalogue.length);
  });
});
