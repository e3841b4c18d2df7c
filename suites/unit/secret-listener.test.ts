import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { READER_ROLE } from '../../src/data/postgres.ts';
import { type Login, pgLogin, redisLogin } from '../../src/grader/logins.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { procStartTime } from '../../src/host/proc.ts';
import { type RunDir, runDirAt } from '../../src/host/run-dir.ts';
import { newState, type State, writeState } from '../../src/host/state.ts';
import { PostgresProbe, RedisProbe } from '../../src/net/readiness.ts';
import { handshakeLogins, mayReceive } from '../../src/runtime/handshake.ts';
import { writeSecrets } from '../../src/runtime/secrets.ts';
import { loopbackServer } from '../support/loopback-server.ts';

/**
 * The run's secrets go only to a server this platform started, asked of the live host at the
 * moment one would go out: the observer keeps its logins between discoveries, and a server held
 * down or crashed frees its address for anyone (in containers mode the bridge address, where any
 * local user may listen on 5432 or 6379). A stranger listening there gets no password: Redis no
 * AUTH, PostgreSQL not even the start of a SCRAM exchange. Processes here are real: this test
 * process stands for the supervisor and the data servers, its parent for someone else's.
 */

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;
const SECRETS = { postgres: 'super-secret', redis: 'redis-s3cret', orders: 'orders-secret', reader: 'reader-secret', operator: 'operator-secret' };
const me = { pid: process.pid, startTime: procStartTime(process.pid)! };

/** The fixture with its data servers' listeners owned by `pid`. */
function modelWith(pid: number): HostModel {
  const m = structuredClone(fixture);
  for (const [ns, port] of [
    ['postgres-db', 5432],
    ['redis-cache', 6379],
  ] as const)
    m.namespaces.find((n) => n.name === ns)!.listeners.find((l) => l.port === port)!.pid = pid;
  return m;
}

function state(): State {
  return {
    ...newState(topology.tag, { data: 'native', networkOnly: false, guard: false, policy: 'deny' }),
    phase: 'up',
    supervisor: me,
    services: (['postgres', 'redis'] as const).map((name) => ({ name, ns: name === 'postgres' ? 'postgres-db' : 'redis-cache', ...me, log: `/run/ecomnet/logs/${name}.log` })),
  };
}

let tmp: string;
let dir: RunDir;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ecomnet-secret-listener-'));
  dir = runDirAt(tmp);
  writeSecrets(dir, SECRETS);
  writeState(dir, state());
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** The logins the observer holds: handed over while the platform served, for the model given. */
function handed(model: HostModel): { pg: Login; redis: Login } {
  const logins = handshakeLogins(dir, model);
  expect(logins?.pgUrl && logins.redisUrl, 'the handshake hands both logins').toBeTruthy();
  return { pg: pgLogin(model, logins?.pgUrl), redis: redisLogin(model, logins?.redisUrl) };
}

describe('mayReceive: a run secret only to the server the live host shows is ours', () => {
  it("our servers, listening where the handshake found them: yes; the seed's public login: always", async () => {
    const now = modelWith(me.pid);
    const { pg, redis } = handed(now);
    expect(await mayReceive(dir, pg, async () => now)).toBe(true);
    expect(await mayReceive(dir, redis, async () => now)).toBe(true);
    expect(await mayReceive(dir, pgLogin(now, ''), async () => now)).toBe(true);
  });

  it('held down or crashed since (another process listens, or none), or elsewhere than handed: no', async () => {
    const { pg, redis } = handed(modelWith(me.pid));
    const stranger = modelWith(process.ppid);
    expect(await mayReceive(dir, pg, async () => stranger)).toBe(false);
    expect(await mayReceive(dir, redis, async () => stranger)).toBe(false);
    const none = modelWith(me.pid);
    for (const n of none.namespaces) n.listeners = [];
    expect(await mayReceive(dir, redis, async () => none)).toBe(false);
    // The bridge address, where a local user may listen: never the run's secret, even with ours up in the namespace.
    expect(await mayReceive(dir, { ...pg, host: topology.app.bridge.ip }, async () => modelWith(me.pid))).toBe(false);
  });
});

/** A stranger listening where a data server was: records every byte; answers a PostgreSQL startup with a SCRAM request. */
async function stranger(kind: 'redis' | 'postgres'): Promise<{ port: number; received: () => string }> {
  const chunks: Buffer[] = [];
  const port = await loopbackServer((s) => {
    s.on('data', (d) => {
      const first = !chunks.length;
      chunks.push(d);
      if (kind === 'postgres' && first) {
        const mech = Buffer.from('SCRAM-SHA-256\0\0');
        const ask = Buffer.alloc(9 + mech.length);
        ask.write('R', 0);
        ask.writeInt32BE(ask.length - 1, 1);
        ask.writeInt32BE(10, 5);
        mech.copy(ask, 9);
        s.write(ask);
      } else if (kind === 'redis') s.write('+OK\r\n');
    });
  });
  return { port, received: () => Buffer.concat(chunks).toString('latin1') };
}

describe("the observer's probes ask before a secret goes out", () => {
  // The live host now: ours gone (held down), a stranger's process listening instead.
  const now = async () => modelWith(process.ppid);
  const trust = (l: Login) => mayReceive(dir, l, now);

  it('Redis: no AUTH to a stranger where ours was', async () => {
    const fake = await stranger('redis');
    const { redis } = handed(modelWith(me.pid));
    const probe = new RedisProbe(trust);
    onTestFinished(() => probe.close());
    expect((await probe.probe({ ...redis, host: '127.0.0.1', port: fake.port })).healthy).toBe(false);
    expect(fake.received()).not.toContain('AUTH');
    expect(fake.received()).not.toContain(SECRETS.redis);
  });

  it('PostgreSQL: not even the first SCRAM message to a stranger where ours was', async () => {
    const fake = await stranger('postgres');
    const { pg } = handed(modelWith(me.pid));
    const probe = new PostgresProbe({ ...pg, host: '127.0.0.1', port: fake.port }, trust);
    onTestFinished(() => probe.close());
    expect((await probe.probe()).healthy).toBe(false);
    expect(fake.received()).toContain(READER_ROLE);
    expect(fake.received()).not.toContain('SCRAM-SHA-256');
  });
});
