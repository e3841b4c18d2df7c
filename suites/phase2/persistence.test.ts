import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOf } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { dataDirAt, runDirAt, TEST_DATA_ROOT } from '../../src/host/run-dir.ts';
import { leftovers } from '../../src/cleanup.ts';
import { topology as pd } from '../../fixtures/data-topology.ts';
import { order } from '../../src/grader/contract.ts';
import { ecomnet, topologyFile } from '../support/cli.ts';
import { platformInfo } from '../support/platform.ts';
import { labelFilter, volumeName } from '../../src/runtime/engine.ts';
import { recordedShell } from '../support/evidence.ts';
import { operatorHeader } from '../support/operator.ts';

const file = topologyFile(pd);
const runDir = '/run/ecomnet-persistence-test';
const store = dataDirAt(pd.tag);
const lb = nodeOf('nginx', pd);

// The main platform's data layer: ECOMNET_DATA=containers npm test proves the named volume.
const data = platformInfo().data;
const volume = volumeName(pd.tag, 'postgres');
const up = () => ecomnet(['up', '--detach', '--data', data, '--topology', file], runDir);
const down = (...flags: string[]) => ecomnet(['down', ...flags, '--topology', file], runDir);
const exists = async (path: string) => (await priv(['test', '-e', path], { allowFail: true })).exitCode === 0;
const volumeThere = async () => (await recordedShell(`docker volume ls -q --filter label=${labelFilter(pd.tag)}`)).stdout.trim() === volume;

/** The orders listed, with the operator token of the platform up now (each `up` makes a new one). */
async function orders(): Promise<{ id: number }[]> {
  const operator = operatorHeader(runDirAt(runDir));
  try {
    const r = await recordedShell(`curl -sS -m 5 ${operator.curlArgs} http://${lb.ip}:${lb.port}/api/orders`);
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { id: number }[];
  } finally {
    operator.remove();
  }
}

describe('data kept on disk across down and up, as compose keeps its volumes; down --volumes wipes it', () => {
  beforeAll(async () => {
    // npm test's data root (vitest.config.ts), never the user's /var/lib/ecomnet/TAG.
    expect(store.root).toBe(`${TEST_DATA_ROOT}/${pd.tag}`);
    await down('--volumes');
  });
  afterAll(async () => {
    const r = await down('--volumes');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await leftovers(pd)).toEqual([]);
    await priv(['rm', '-rf', runDir]);
    rmSync(dirname(file), { recursive: true, force: true });
  });

  it(`an order posted, down, up: it is still there (with this run's password); down --volumes, up: none (${data} data)`, async () => {
    const first = await up();
    expect(first.exitCode, first.stderr).toBe(0);
    if (data === 'native') expect(first.stdout).toContain(`postgres cluster initialised in ${store.postgres}`);
    expect(await orders()).toEqual([]);
    const post = await recordedShell(`curl -sS -m 5 -X POST -H 'Content-Type: application/json' -d '${JSON.stringify(order)}' http://${lb.ip}:${lb.port}/api/orders`);
    const id = (JSON.parse(post.stdout) as { order_id: number }).order_id;
    expect(id).toBeGreaterThan(0);

    const kept = await down();
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(await leftovers(pd)).toEqual([]);
    if (data === 'native') {
      expect(await exists(store.postgresReady), 'the cluster stays on disk after down').toBe(true);
      const perms = await recordedShell(`stat -c '%U %a %n' ${store.root} ${store.postgres}`);
      expect(perms.stdout).toBe(`root 755 ${store.root}\npostgres 700 ${store.postgres}\n`);
    } else {
      expect(await volumeThere(), 'the volume stays after down').toBe(true);
      const perms = await recordedShell(`stat -c '%U %a %n' ${store.postgresPassword}`);
      expect(perms.stdout).toBe(`root 600 ${store.postgresPassword}\n`);
    }

    const again = await up();
    expect(again.exitCode, again.stderr).toBe(0);
    if (data === 'native') expect(again.stdout).toContain(`postgres cluster kept in ${store.postgres}, password renewed`);
    expect((await orders()).map((o) => o.id)).toContain(id);

    const wiped = await down('--volumes');
    expect(wiped.exitCode, wiped.stderr).toBe(0);
    expect(await exists(store.root), 'down --volumes removes the data directory').toBe(false);
    if (data === 'containers') expect(await volumeThere(), 'and the volume').toBe(false);
    const fresh = await up();
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect(await orders()).toEqual([]);
  });
});
