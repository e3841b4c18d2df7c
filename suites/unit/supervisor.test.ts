import { describe, expect, it } from 'vitest';
import { statusTable } from '../../src/cli/status.ts';
import type { ServiceRecord } from '../../src/host/state.ts';
import { decide, DEFAULT_POLICY } from '../../src/runtime/restart-policy.ts';
import { Supervisor, type Supervision, type SupervisorDeps } from '../../src/runtime/supervisor.ts';
import type { Component } from '../../src/topology/types.ts';

/** Issue 12: a crashed service is restarted with backoff and a limit, like compose's restart: on-failure. */

describe('decide: the restart policy', () => {
  it('doubles the delay for each restart inside the window, up to its cap', () => {
    const p = { maxRestarts: 10, windowMs: 60_000, initialDelayMs: 250, maxDelayMs: 3000 };
    const delays = [0, 1, 2, 3, 4, 5].map((n) =>
      decide(
        Array.from({ length: n }, () => 1000),
        2000,
        p,
      ),
    );
    expect(delays.map((d) => (d.action === 'restart' ? d.delayMs : -1))).toEqual([250, 500, 1000, 2000, 3000, 3000]);
  });

  it('gives up at the limit, and forgets restarts older than the window', () => {
    const five = [1, 2, 3, 4, 5].map((s) => s * 1000);
    expect(decide(five, 10_000)).toMatchObject({ action: 'give-up', reason: expect.stringMatching(/5 restarts within 60 s/) });
    expect(decide(five, 64_500)).toEqual({ action: 'restart', delayMs: 2 * DEFAULT_POLICY.initialDelayMs });
  });
});

/** A fake host: services that die when told, a clock that moves only when slept on. */
class FakeHost implements SupervisorDeps {
  clock = 1_000_000;
  slept: number[] = [];
  started: Component[] = [];
  leftoversCleared: string[] = [];
  stoppedUnready: Component[] = [];
  saved: Supervision[] = [];
  dead = new Set<string>();
  /** Services that die again as soon as they are started. */
  crashLoop = new Set<string>();
  failStart = new Set<string>();
  /** What the fault record holds down (`fault kill --hold`). */
  holds = new Set<string>();
  /** Run when the supervisor sleeps (its restart delay): what happens meanwhile. */
  duringSleep = () => {};
  recs: ServiceRecord[] = ['postgres', 'gateway', 'internet'].map((name, i) => ({ name, ns: `${name}-ns`, pid: 100 + i, startTime: 1, log: '' }));
  records = () => this.recs;
  held = () => this.holds;
  alive = (r: ServiceRecord) => !this.dead.has(r.name);
  clearLeftovers = async (r: ServiceRecord) => void this.leftoversCleared.push(r.name);
  start = async (name: Component) => {
    this.started.push(name);
    this.clock += 40;
    if (this.failStart.has(name)) throw new Error(`${name} failed to start: port in use\n--- last lines ---`);
    if (!this.crashLoop.has(name)) this.dead.delete(name);
  };
  stopUnready = async (name: Component) => void this.stoppedUnready.push(name);
  save = (s: Supervision) => void this.saved.push(structuredClone(s));
  log = () => {};
  now = () => this.clock;
  sleep = async (ms: number) => {
    this.slept.push(ms);
    this.clock += ms;
    this.duringSleep();
  };
}

async function look(s: Supervisor): Promise<void> {
  await Promise.all(s.check());
}

describe('Supervisor', () => {
  it("supervises the seed's services only, and leaves running ones alone", async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    await look(s);
    expect(Object.keys(s.status.services)).toEqual(['postgres', 'gateway']);
    expect(host.started).toEqual([]);
  });

  it('restarts a killed service after the first delay, clearing what it left in its namespace, and counts it', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('gateway');
    await look(s);
    expect(host.leftoversCleared).toEqual(['gateway']);
    expect(host.slept).toEqual([DEFAULT_POLICY.initialDelayMs]);
    expect(host.started).toEqual(['gateway']);
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 1, lastRecoveryMs: DEFAULT_POLICY.initialDelayMs + 40 });
    expect(host.saved.at(-1)?.services.gateway?.restarts).toBe(1);
  });

  it('a service that keeps crashing is restarted with a growing delay, then given up after the limit', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('postgres');
    host.crashLoop.add('postgres');
    for (let i = 0; i < 10; i++) await look(s);
    expect(host.slept).toEqual([250, 500, 1000, 2000, 4000]);
    expect(host.started).toEqual(Array(DEFAULT_POLICY.maxRestarts).fill('postgres'));
    expect(s.status.services.postgres).toMatchObject({ state: 'gave-up', restarts: 5, reason: expect.stringMatching(/after 5 restarts/) });
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('a service given up is tried again when asked (ecomnet restart), its recent restarts forgotten', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('postgres');
    host.crashLoop.add('postgres');
    for (let i = 0; i < 6; i++) await look(s);
    expect(s.status.services.postgres?.state).toBe('gave-up');
    expect(s.retryGivenUp()).toEqual(['postgres']);
    host.crashLoop.delete('postgres');
    host.slept = [];
    await look(s);
    expect(host.slept).toEqual([DEFAULT_POLICY.initialDelayMs]);
    expect(s.status.services.postgres).toMatchObject({ state: 'running', restarts: 6 });
    expect(s.retryGivenUp()).toEqual([]);
  });

  it('a start that fails stops what it left and tries again on the next look', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('gateway');
    host.failStart.add('gateway');
    await look(s);
    expect(host.stoppedUnready).toEqual(['gateway']);
    expect(s.status.services.gateway).toMatchObject({ state: 'restarting', restarts: 1, lastError: 'gateway failed to start: port in use' });
    host.failStart.delete('gateway');
    await look(s);
    expect(host.slept).toEqual([250, 500]);
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 2 });
  });

  it('one recovery at a time per service: a look during a restart starts no second one', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('gateway');
    const first = s.check();
    expect(s.check()).toEqual([]);
    await Promise.all(first);
    expect(host.started).toEqual(['gateway']);
  });
});

/** Issue 11: `ecomnet fault kill SERVICE --hold` keeps a service down until `ecomnet fault clear`. */
/** A supervisor over a fake host where `service` has been killed with --hold. */
function heldAndDead(service: string) {
  const host = new FakeHost();
  const s = new Supervisor(host, 7);
  host.holds.add(service);
  host.dead.add(service);
  return { host, s };
}

describe('Supervisor: a held service', () => {
  it('is not restarted while held, nor counted: its account says held', async () => {
    const { host, s } = heldAndDead('gateway');
    for (let i = 0; i < 20; i++) await look(s);
    expect(host.started).toEqual([]);
    expect(host.slept).toEqual([]);
    expect(s.status.services.gateway).toMatchObject({ state: 'held', restarts: 0, restartedAt: [] });
    expect(host.saved.at(-1)?.services.gateway?.state).toBe('held');
    // Said once, not on every look.
    expect(host.saved.filter((x) => x.services.gateway?.state === 'held').length).toBe(1);
  });

  it('once cleared, is started on the next look at once (no backoff), its leftovers cleared, and not counted as a restart', async () => {
    const { host, s } = heldAndDead('gateway');
    await look(s);
    host.holds.clear();
    await look(s);
    expect(host.started).toEqual(['gateway']);
    expect(host.leftoversCleared).toEqual(['gateway']);
    expect(host.slept).toEqual([]);
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 0, restartedAt: [], lastRecoveryMs: 40 });
    expect(host.saved.at(-1)?.services.gateway?.state).toBe('running');
  });

  it('holding and clearing again and again never makes it give up, and a crash after it is restarted with the first delay', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    for (let i = 0; i < 2 * DEFAULT_POLICY.maxRestarts; i++) {
      host.holds.add('postgres');
      host.dead.add('postgres');
      await look(s);
      host.holds.clear();
      await look(s);
    }
    expect(s.status.services.postgres).toMatchObject({ state: 'running', restarts: 0 });
    host.dead.add('postgres');
    await look(s);
    expect(host.slept).toEqual([DEFAULT_POLICY.initialDelayMs]);
    expect(s.status.services.postgres).toMatchObject({ state: 'running', restarts: 1 });
  });

  it('a hold recorded while the look that found it dead waits to restart it is honoured: not started, not counted', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.dead.add('gateway');
    host.duringSleep = () => host.holds.add('gateway');
    await look(s);
    expect(host.started).toEqual([]);
    expect(s.status.services.gateway).toMatchObject({ state: 'held', restarts: 0, restartedAt: [] });
    host.holds.clear();
    await look(s);
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('a start after the clear that fails is a crash from then on: restarted under the policy', async () => {
    const { host, s } = heldAndDead('gateway');
    await look(s);
    host.holds.clear();
    host.failStart.add('gateway');
    await look(s);
    expect(host.stoppedUnready).toEqual(['gateway']);
    expect(s.status.services.gateway).toMatchObject({ state: 'restarting', restarts: 0, lastError: 'gateway failed to start: port in use' });
    host.failStart.delete('gateway');
    await look(s);
    expect(host.slept).toEqual([DEFAULT_POLICY.initialDelayMs]);
    expect(s.status.services.gateway).toMatchObject({ state: 'running', restarts: 1 });
  });

  it('a running service that is held but not (yet) killed is left alone', async () => {
    const host = new FakeHost();
    const s = new Supervisor(host, 7);
    host.holds.add('gateway');
    await look(s);
    expect(s.status.services.gateway?.state).toBe('running');
  });
});

describe('ecomnet status', () => {
  it("shows each service's restarts, and says when the supervisor gave one up or holds one down", () => {
    const row = { ip: '10.0.0.20', role: 'API gateway', exists: true, address: '10.0.0.20:3000', pid: 42 };
    const shown = statusTable([
      { ...row, namespace: 'api-gateway', service: 'gateway', restarts: 2, health: 'healthy' },
      { ...row, namespace: 'order-service', service: 'order', restarts: 5, gaveUp: 'crashed again after 5 restarts within 60 s', health: 'unhealthy' },
      { ...row, namespace: 'ext-client', health: 'n/a' },
      { ...row, namespace: 'product-service', service: 'product', restarts: 0, held: true, health: 'unhealthy' },
    ]).split('\n');
    expect(shown[0]).toMatch(/PID\s+RESTARTS\s+HEALTH$/);
    expect(shown[1]).toMatch(/\s42\s+2\s+healthy$/);
    expect(shown[2]).toMatch(/\s42\s+5 \(gave up\)\s+unhealthy$/);
    expect(shown[3]).toMatch(/\s42\s+-\s+n\/a$/);
    expect(shown[4]).toMatch(/\bproduct\b.*\s42\s+0 \(held\)\s+unhealthy$/);
  });
});
