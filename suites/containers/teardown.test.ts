import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishedAt } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { containerName, engine, labelFilter, labelledContainers, volumeName } from '../../src/runtime/engine.ts';
import { ensureImages, imageEnv } from '../../src/runtime/images.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { topology as ct } from '../../fixtures/containers-topology.ts';
import { leftovers } from '../../src/cleanup.ts';
import { testRunDirs } from '../../src/host/run-dir.ts';
import { cli, ecomnet, topologyFile } from '../support/cli.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { recordedShell } from '../support/evidence.ts';
import { containersMode } from '../support/mode.ts';

const on = containersMode('suites/containers/teardown');
// Written only when the suite runs: a skipped one has no afterAll to remove it.
const ctFile = on ? topologyFile(ct) : '';
const ctDir = testRunDirs.containers;
const upArgs = ['up', '--detach', '--data', 'containers', '--topology', ctFile];
const ctDown = (...flags: string[]) => ecomnet(['down', ...flags, '--topology', ctFile], ctDir);

/** Containers of the second platform, running or not: what `down` itself looks for. */
const labelled = (): Promise<string[]> => labelledContainers(ct.tag);

/** What Docker holds besides containers, to prove a run leaves no network or (anonymous) volume behind. */
async function dockerObjects(): Promise<{ networks: string[]; volumes: string[] }> {
  const docker = await engine();
  const [networks, volumes] = await Promise.all([docker.listNetworks(), docker.listVolumes()]);
  return { networks: networks.map((n) => n.Id).sort(), volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort() };
}

describe.skipIf(!on)('containers mode leaves nothing behind (a second platform, driven through the CLI)', () => {
  beforeAll(async () => {
    // The images the main platform runs; never pulled here.
    await ensureImages(() => {});
  });
  beforeEach(async () => {
    await ctDown('--volumes');
  });
  afterAll(async () => {
    await ctDown('--volumes');
    await priv(['rm', '-rf', ctDir]);
    rmSync(dirname(ctFile), { recursive: true, force: true });
  });

  it('up without ECOMNET_*_IMAGE runs the images this host has and pulls nothing; then down: its two labelled containers, published on its own gateway, then none and nothing else but its data volume, which down --volumes removes', async () => {
    const before = await dockerObjects();
    // As a person types it: no image variables, so up finds the images itself (those ensureImages chose above).
    const u = await ecomnet(upArgs, ctDir, { [imageEnv('postgres')]: '', [imageEnv('redis')]: '' });
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stdout + u.stderr).not.toMatch(/pulling/i);
    const ps = await recordedShell(`docker ps --filter label=${labelFilter(ct.tag)} --format '{{.Names}} {{.Image}} {{.Ports}}'`);
    for (const c of ['postgres', 'redis'] as const) {
      const at = publishedAt(c, ct);
      expect(ps.stdout).toMatch(new RegExp(`^${containerName(ct.tag, c)} ${escapeRegExp(process.env[imageEnv(c)]!)} .*${escapeRegExp(`${at.host}:${at.port}->`)}`, 'm'));
    }
    expect(await labelled()).toHaveLength(2);
    const d = await ctDown();
    expect(d.exitCode, d.stderr).toBe(0);
    expect((await recordedShell(`docker ps -a --filter label=${labelFilter(ct.tag)}`)).stdout.trim().split('\n')).toHaveLength(1);
    expect(await labelled()).toEqual([]);
    expect(await leftovers(ct)).toEqual([]);
    // Its data stays, as compose keeps its volumes: one named volume, labelled ours; down --volumes removes it.
    const kept = await dockerObjects();
    expect(kept.networks).toEqual(before.networks);
    expect(kept.volumes.filter((v) => !before.volumes.includes(v))).toEqual([volumeName(ct.tag, 'postgres')]);
    const wiped = await ctDown('--volumes');
    expect(wiped.exitCode, wiped.stderr).toBe(0);
    expect(await dockerObjects()).toEqual(before);
  });

  it('kill -9 during up, as soon as a container exists, then down: no container of it remains', async () => {
    const child = spawn(process.execPath, [cli, ...upArgs], { env: { ...process.env, ECOMNET_RUN_DIR: ctDir }, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await waitFor(async () => check((await labelled()).length > 0, 'no container yet'), { what: 'a labelled container', timeoutMs: 60_000, intervalMs: 50 });
    child.kill('SIGKILL');
    await exited;
    expect(await labelled()).not.toEqual([]);
    const d = await ctDown();
    expect(d.exitCode, d.stderr).toBe(0);
    expect(await labelled()).toEqual([]);
    expect(await leftovers(ct)).toEqual([]);
  });

  it('no engine: up --data containers fails, names the socket and the ways out, and creates nothing', async () => {
    const socket = 'unix:///nonexistent/docker.sock';
    const r = await ecomnet(upArgs, ctDir, { DOCKER_HOST: socket });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(socket);
    expect(r.stderr).toMatch(/start one .*dockerd/i);
    expect(r.stderr).toContain('--data native');
    expect(existsSync(join(ctDir, 'state.json'))).toBe(false);
    expect(await leftovers(ct)).toEqual([]);
    expect(await labelled()).toEqual([]);
  });
});
