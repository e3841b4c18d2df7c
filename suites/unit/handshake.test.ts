import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { READER_ROLE } from '../../src/data/postgres.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { procStartTime } from '../../src/host/proc.ts';
import { type RunDir, runDirAt } from '../../src/host/run-dir.ts';
import { newState, type ServiceRecord, type State, validateState, writeState } from '../../src/host/state.ts';
import { handshakeLogins } from '../../src/runtime/handshake.ts';
import { writeSecrets } from '../../src/runtime/secrets.ts';

/**
 * ecomnet hands its run's logins to the grader only while the platform its state records is the
 * one serving: a live supervisor that is the process recorded, and data servers the grader found
 * listening that are the ones recorded. Processes here are real: this test process stands for
 * the supervisor and the data servers, its parent for someone else's.
 */

const model = JSON.parse(readFileSync(new URL('../../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;
const SECRETS = { postgres: 'super-secret', redis: 'redis s3cret/+', orders: 'orders-secret', reader: 'read@er:secret', operator: 'operator-secret' };

const me = { pid: process.pid, startTime: procStartTime(process.pid)! };
const parent = { pid: process.ppid, startTime: procStartTime(process.ppid)! };

/** A pid no process has now. */
function deadPid(): number {
  for (let pid = 4_194_000; pid > 1000; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
  throw new Error('no free pid found');
}

/** The fixture with its data servers' listeners owned by `pg` and `redis`. */
function modelWith(pg: number, redis: number = pg): HostModel {
  const m = structuredClone(model);
  const listenerIn = (ns: string, port: number) => m.namespaces.find((n) => n.name === ns)!.listeners.find((l) => l.port === port)!;
  listenerIn('postgres-db', 5432).pid = pg;
  listenerIn('redis-cache', 6379).pid = redis;
  return m;
}

const service = (name: 'postgres' | 'redis', p: { pid: number; startTime?: number }): ServiceRecord => ({
  name,
  ns: name === 'postgres' ? 'postgres-db' : 'redis-cache',
  pid: p.pid,
  ...(p.startTime === undefined ? {} : { startTime: p.startTime }),
  log: `/run/ecomnet/logs/${name}.log`,
});

/** A state as `ecomnet up` writes it, checked by the same validation `down` applies. */
function state(o: {
  phase?: State['phase'];
  supervisor: { pid: number; startTime: number };
  pg?: { pid: number; startTime?: number };
  redis?: { pid: number; startTime?: number };
  containers?: string[];
}): State {
  const s: State = {
    ...newState(topology.tag, { data: o.containers ? 'containers' : 'native', networkOnly: false, guard: false, policy: 'deny' }),
    phase: o.phase ?? 'up',
    supervisor: o.supervisor,
    services: [...(o.pg ? [service('postgres', o.pg)] : []), ...(o.redis ? [service('redis', o.redis)] : [])],
    containers: o.containers ?? [],
  };
  expect(validateState(JSON.parse(JSON.stringify(s)), topology)).toEqual(s);
  return s;
}

const pgUrl = `postgres://${READER_ROLE}:${encodeURIComponent(SECRETS.reader)}@10.0.0.60:5432/orders`;
const redisUrl = `redis://:${encodeURIComponent(SECRETS.redis)}@10.0.0.50:6379`;

let tmp: string;
let dir: RunDir;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ecomnet-handshake-'));
  dir = runDirAt(tmp);
  writeSecrets(dir, SECRETS);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe("handshakeLogins: ecomnet's run logins, only for the platform recorded and serving", () => {
  it('all matching: the reader role with its secret, and Redis with its password', () => {
    writeState(dir, state({ supervisor: me, pg: me, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toEqual({ pgUrl, redisUrl });
  });

  it('no state, or no secrets: nothing', () => {
    expect(handshakeLogins(dir, modelWith(me.pid))).toBeUndefined();
    writeState(dir, state({ supervisor: me, pg: me, redis: me }));
    rmSync(dir.secrets);
    expect(handshakeLogins(dir, modelWith(me.pid))).toBeUndefined();
  });

  it('a stale state, its supervisor no live process (or its pid reused by another): nothing', () => {
    writeState(dir, state({ supervisor: { pid: deadPid(), startTime: me.startTime }, pg: me, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toBeUndefined();
    writeState(dir, state({ supervisor: { pid: me.pid, startTime: me.startTime + 1 }, pg: me, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toBeUndefined();
  });

  it('a platform not up (applying, down): nothing', () => {
    for (const phase of ['applying', 'down'] as const) {
      writeState(dir, state({ phase, supervisor: me, pg: me, redis: me }));
      expect(handshakeLogins(dir, modelWith(me.pid)), phase).toBeUndefined();
    }
  });

  it('a live supervisor, but the postgres record names a process that is not the listener found: no pgUrl', () => {
    // The record is a live process (this one's parent), the listener the model shows is another.
    writeState(dir, state({ supervisor: me, pg: parent, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toEqual({ redisUrl });
    // The record names the listener's pid, but a process since gone (another start time).
    writeState(dir, state({ supervisor: me, pg: { pid: me.pid, startTime: me.startTime + 1 }, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toEqual({ redisUrl });
    // No start time recorded: the pid alone cannot be trusted.
    writeState(dir, state({ supervisor: me, pg: { pid: me.pid }, redis: me }));
    expect(handshakeLogins(dir, modelWith(me.pid))).toEqual({ redisUrl });
  });

  it('a planted state, up and matching itself, while the listener the grader found is another process: no pgUrl', () => {
    writeState(dir, state({ supervisor: me, pg: me, redis: me }));
    expect(handshakeLogins(dir, modelWith(parent.pid, me.pid))).toEqual({ redisUrl });
    expect(handshakeLogins(dir, modelWith(parent.pid, parent.pid))).toEqual({});
  });

  it('no data server found listening: no login for it', () => {
    writeState(dir, state({ supervisor: me, pg: me, redis: me }));
    const m = modelWith(me.pid);
    m.namespaces.find((n) => n.name === 'postgres-db')!.listeners = [];
    expect(handshakeLogins(dir, m)).toEqual({ redisUrl });
  });

  it("containers mode: PostgreSQL in the platform's own container, not in another's", () => {
    const id = 'a1b2c3d4e5f6a7b8c9d0';
    const m = modelWith(me.pid);
    m.namespaces.find((n) => n.name === 'postgres-db')!.listeners = [];
    m.containers = [{ id, name: 'ecomnet-postgres', image: 'postgres:16', running: true, ports: [{ containerPort: 5432, hostIp: '10.0.0.1', hostPort: 5432 }] }];
    const inContainer = `postgres://${READER_ROLE}:${encodeURIComponent(SECRETS.reader)}@10.0.0.1:5432/orders`;
    writeState(dir, state({ supervisor: me, redis: me, containers: [id.slice(0, 12)] }));
    expect(handshakeLogins(dir, m)).toEqual({ pgUrl: inContainer, redisUrl });
    writeState(dir, state({ supervisor: me, redis: me, containers: ['ffffffffffff'] }));
    expect(handshakeLogins(dir, m)).toEqual({ redisUrl });
  });
});
