import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { containerName } from '../../src/runtime/engine.ts';
import { POSTGRES_PASSWORD_FILE, REDIS_CONF_FILE } from '../../src/runtime/entrypoint.ts';
import { newSecrets, readSecrets } from '../../src/runtime/secrets.ts';
import { recordEvidence, recordedShell } from '../support/evidence.ts';
import { containersMode } from '../support/mode.ts';
import { runDir } from '../support/platform.ts';

const on = containersMode('suites/containers/secrets');
const names = (['postgres', 'redis'] as const).map((c) => containerName(topology.tag, c));

describe.skipIf(!on)("containers mode keeps the run's passwords out of docker inspect and /proc", () => {
  const secrets = Object.values(readSecrets(runDir) ?? {});

  it('the run has its passwords', () => {
    expect(secrets).toHaveLength(Object.keys(newSecrets()).length);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('docker inspect of both containers shows neither (environment, command, entrypoint, healthcheck, args)', async () => {
    const at = new Date().toISOString();
    const r = await priv(['docker', 'inspect', ...names], { allowFail: true });
    // Checked as printed; the evidence keeps it masked like everything recorded.
    const leaked = secrets.filter((s) => r.stdout.includes(s)).length;
    recordEvidence({ ...r, at });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(leaked, 'passwords found in docker inspect').toBe(0);
    const [pg, redis] = JSON.parse(r.stdout) as { Config: { Healthcheck?: { Test: string[] } } }[];
    expect(pg?.Config.Healthcheck?.Test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(redis).toBeDefined();
  });

  it("no process on the host shows one in its command line or environment (the containers' servers and healthchecks included)", async () => {
    const at = new Date().toISOString();
    // The scan as root reads every environment; the secrets reach it on stdin, it prints only what it found, masked.
    const sampler = JSON.stringify(new URL('../../setup/secret-sampler.ts', import.meta.url).href);
    const script = `Promise.all([import(${sampler}), import('node:fs')]).then(([m, fs]) => console.log(JSON.stringify(m.scanProcesses(JSON.parse(fs.readFileSync(0, 'utf8'))))))`;
    const r = await priv([process.execPath, '-e', script], { allowFail: true, input: JSON.stringify(secrets) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    recordEvidence({ ...r, at });
  });

  it('each secret is a file only the server reads: Redis its 0600 configuration, PostgreSQL none once initialised', async () => {
    const redis = await recordedShell(`docker exec ${names[1]} stat -c '%a %U' ${REDIS_CONF_FILE}`);
    expect(redis.stdout.trim()).toBe('600 redis');
    const pg = await recordedShell(`docker exec ${names[0]} test ! -e ${POSTGRES_PASSWORD_FILE}`);
    expect(pg.exitCode, pg.stderr).toBe(0);
  });
});
