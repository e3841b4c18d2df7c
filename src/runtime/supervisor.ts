/**
 * The supervisor: one small detached process per platform that watches the services recorded
 * in the state file and starts a crashed one again, as `restart: on-failure` does in compose
 * (src/runtime/restart-policy.ts says when). It is the only writer of the state while the
 * platform is up; `down` stops it before the services, so a teardown never races a restart.
 * Its account of each service (restarts, given up, held) is the run directory's supervision
 * file, which `ecomnet status` shows. A service the fault record holds down (`ecomnet fault kill
 * --hold`) is left down, and started again once the hold is cleared.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { getCompileCacheDir } from 'node:module';
import { fileURLToPath } from 'node:url';
import { priv } from '../host/exec.ts';
import { openForAppend, replaceFile } from '../host/files.ts';
import { procStartTime, sameProcess } from '../host/proc.ts';
import type { RunDir } from '../host/run-dir.ts';
import type { ServiceRecord } from '../host/state.ts';
import { readJson } from '../util/read-json.ts';
import type { Component, Topology } from '../topology/types.ts';
import { until } from '../util/wait.ts';
import { decide, DEFAULT_POLICY, type RestartPolicy } from './restart-policy.ts';
import { LOG_LIMIT, RotatingLog } from './log-keeper.ts';
import { lastLines, releaseHeldPipes, stopPid } from './spawn.ts';

/** The services it restarts: the seed's six (the simulated internet host is test scenery). */
export const SUPERVISED: Component[] = ['postgres', 'redis', 'product', 'order', 'gateway', 'nginx'];

export interface ServiceSupervision {
  /** `held`: down on purpose (`fault kill --hold`), not restarted and not counted until the hold is cleared. */
  state: 'running' | 'restarting' | 'gave-up' | 'held';
  restarts: number;
  /** When each restart was attempted (ms since the epoch): the policy's window counts them. */
  restartedAt: number[];
  /** From finding it dead (or its hold cleared) to it answering again, for the last recovery. */
  lastRecoveryMs?: number;
  lastError?: string;
  reason?: string;
}

export interface Supervision {
  pid: number;
  policy: RestartPolicy;
  services: Record<string, ServiceSupervision>;
}

/** What the supervisor does to the host, injected so its decisions are tested with a fake one. */
export interface SupervisorDeps {
  /** The services as recorded now. */
  records(): ServiceRecord[];
  /** The services the fault record holds down now (read on each look). */
  held(): Set<string>;
  alive(rec: ServiceRecord): boolean;
  /** Kill what is left of the dead service in its namespace (nginx's workers, PostgreSQL's backends). */
  clearLeftovers(rec: ServiceRecord): Promise<void>;
  /** Start it again with its configuration and wait until it serves; throws if it does not. */
  start(name: Component): Promise<void>;
  /** A start that failed may leave a process that never became ready: stop it, so the next look restarts it. */
  stopUnready(name: Component): Promise<void>;
  save(s: Supervision): void;
  log(event: Record<string, unknown>): void;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export class Supervisor {
  readonly #deps: SupervisorDeps;
  readonly #status: Supervision;
  readonly #busy = new Set<string>();

  constructor(deps: SupervisorDeps, pid: number, policy: RestartPolicy = DEFAULT_POLICY) {
    this.#deps = deps;
    this.#status = { pid, policy, services: {} };
    for (const r of deps.records()) if (SUPERVISED.includes(r.name as Component)) this.#status.services[r.name] = { state: 'running', restarts: 0, restartedAt: [] };
    deps.save(this.#status);
  }

  get status(): Supervision {
    return this.#status;
  }

  /**
   * One look at every service: a dead one not already being handled or given up is held (the
   * fault record holds it), started again (it was held and no longer is) or recovered as a
   * crash, in the background.
   */
  check(): Promise<void>[] {
    const started: Promise<void>[] = [];
    const held = this.#deps.held();
    for (const rec of this.#deps.records()) {
      const s = this.#status.services[rec.name];
      if (!s || s.state === 'gave-up' || this.#busy.has(rec.name) || this.#deps.alive(rec)) continue;
      if (held.has(rec.name)) {
        this.#hold(rec, s);
        continue;
      }
      this.#busy.add(rec.name);
      started.push((s.state === 'held' ? this.#release(rec, s) : this.#recover(rec, s)).finally(() => this.#busy.delete(rec.name)));
    }
    return started;
  }

  #hold(rec: ServiceRecord, s: ServiceSupervision): void {
    if (s.state === 'held') return;
    s.state = 'held';
    this.#deps.save(this.#status);
    this.#deps.log({ service: rec.name, event: 'held', pid: rec.pid });
  }

  /** The hold is cleared: start it at once, as asked, outside the restart policy (no delay, not counted); a start that fails is a crash from then on. */
  async #release(rec: ServiceRecord, s: ServiceSupervision): Promise<void> {
    const d = this.#deps;
    const releasedAt = d.now();
    s.state = 'restarting';
    d.save(this.#status);
    d.log({ service: rec.name, event: 'released' });
    await d.clearLeftovers(rec);
    await this.#start(rec, s, releasedAt);
  }

  /** `ecomnet restart` of a service given up: its count of recent restarts starts over, and the next look restarts it. */
  retryGivenUp(): string[] {
    const revived = Object.entries(this.#status.services).filter(([, s]) => s.state === 'gave-up');
    for (const [, s] of revived) Object.assign(s, { state: 'restarting', restartedAt: [], reason: undefined });
    if (revived.length) this.#deps.save(this.#status);
    return revived.map(([name]) => name);
  }

  async #recover(rec: ServiceRecord, s: ServiceSupervision): Promise<void> {
    const d = this.#deps;
    const downAt = d.now();
    const decision = decide(s.restartedAt, downAt, this.#status.policy);
    if (decision.action === 'give-up') {
      Object.assign(s, { state: 'gave-up', reason: decision.reason });
      d.save(this.#status);
      d.log({ service: rec.name, event: 'gave up', reason: decision.reason });
      return;
    }
    s.state = 'restarting';
    d.save(this.#status);
    d.log({ service: rec.name, event: 'down', pid: rec.pid, restartInMs: decision.delayMs });
    await d.clearLeftovers(rec);
    await d.sleep(decision.delayMs);
    // A hold recorded just before its kill may have been read too late by the look that found it dead.
    if (d.held().has(rec.name)) return this.#hold(rec, s);
    s.restartedAt = [...s.restartedAt.filter((t) => downAt - t < this.#status.policy.windowMs), d.now()];
    s.restarts++;
    d.save(this.#status);
    await this.#start(rec, s, downAt);
  }

  /** Start it and wait until it serves; `downAt` is when it was found dead (or released), for the recovery time. */
  async #start(rec: ServiceRecord, s: ServiceSupervision, downAt: number): Promise<void> {
    const d = this.#deps;
    try {
      await d.start(rec.name as Component);
      Object.assign(s, { state: 'running', lastRecoveryMs: Math.round(d.now() - downAt), lastError: undefined });
      d.log({ service: rec.name, event: 'restarted', restarts: s.restarts, recoveryMs: s.lastRecoveryMs });
    } catch (e) {
      s.lastError = (e as Error).message.split('\n')[0];
      d.log({ service: rec.name, event: 'restart failed', restarts: s.restarts, error: s.lastError });
      await d.stopUnready(rec.name as Component);
    }
    d.save(this.#status);
  }
}

const entry = fileURLToPath(new URL('./supervise.ts', import.meta.url));

/** Its heap bounded as the services' is: idle it holds a few state records and the log pipes' buffers. */
const SUPERVISOR_NODE_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=1'];

/**
 * Start the platform's supervisor, detached (it outlives `up --detach`), as this user: what it
 * does as root goes through the same `sudo -n` as the CLI. Returns once it supervises (it has
 * recorded itself in the state and written its account), so `status`, `restart` and `down`
 * right after `up` find it; by then it keeps the servers' logs, and this process lets go of
 * the pipes it held for it.
 */
export async function startSupervisor(dir: RunDir, t: Topology): Promise<void> {
  replaceFile(dir.topology, JSON.stringify(t));
  // Its stdout and stderr carry only what it cannot log itself (a crash); its events go through supervisorLog.
  const fd = openForAppend(dir.log('supervisor'));
  // The CLI's compile cache from its first module on: compiled from it, the entry never loads the TypeScript stripper (about 15 MB).
  const cache = getCompileCacheDir();
  const env = { ...process.env, ECOMNET_RUN_DIR: dir.root, ...(cache ? { NODE_COMPILE_CACHE: cache } : {}) };
  const child = spawn(process.execPath, [...SUPERVISOR_NODE_FLAGS, entry, dir.root], { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  const startTime = pid === undefined ? undefined : procStartTime(pid);
  const started = pid !== undefined && startTime !== undefined && (await until(() => readSupervision(dir)?.pid === pid || !sameProcess({ pid, startTime }), { timeoutMs: 15_000, intervalMs: 20 }));
  if (!started || readSupervision(dir)?.pid !== pid) throw new Error(`the supervisor did not start: ${lastLines(dir.log('supervisor'), 5)}`);
  releaseHeldPipes();
}

/**
 * The supervisor's log of events, bounded as the services' logs are (LOG_LIMIT, rotated to
 * supervisor.log.1, .2): a service flapping for weeks must not fill the run directory's tmpfs.
 */
export function supervisorLog(file: string, limit = LOG_LIMIT): (event: Record<string, unknown>) => void {
  const out = new RotatingLog(file, limit.maxBytes, limit.keep);
  return (event) => out.write(Buffer.from(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`));
}

/** Stop the supervisor (before the services: it must not restart what `down` stops). */
/** `down`, first: the supervisor restarts nothing from now on, and keeps the logs until the services have exited. */
export async function askSupervisorToStop(rec: { pid: number; startTime: number } | undefined): Promise<void> {
  if (rec && sameProcess(rec)) await priv(['kill', '-TERM', String(rec.pid)], { allowFail: true });
}

/** `down`, once the services are stopped: the supervisor has kept their last lines and leaves by itself, or is made to. */
export async function stopSupervisor(rec: { pid: number; startTime: number } | undefined): Promise<void> {
  if (rec && !(await until(() => !sameProcess(rec), { timeoutMs: 5000, intervalMs: 20 }))) await stopPid(rec, 'KILL', 1000);
}

export const supervisorRunning = (rec: { pid: number; startTime: number } | undefined): boolean => rec !== undefined && sameProcess(rec);

/** The supervisor's account, if one runs or ran for this run directory. */
export const readSupervision = (dir: RunDir): Supervision | undefined => readJson<Supervision>(dir.supervision);

/** Atomic, as the state: `status` never reads half a file. */
export function writeSupervision(dir: RunDir, s: Supervision): void {
  replaceFile(dir.supervision, `${JSON.stringify(s, null, 2)}\n`);
}

/** Ask the supervisor to try the services it gave up again (SIGUSR1); resolves once its record of `name` shows it took the retry. */
export async function retrySupervised(dir: RunDir, rec: { pid: number; startTime: number }, name: Component): Promise<void> {
  if (!sameProcess(rec)) throw new Error('the supervisor is not running');
  await priv(['kill', '-USR1', String(rec.pid)]);
  // The supervisor takes the signal on its next turn; until then its record still says it gave up,
  // and a caller waiting for the restart would read that as a new give-up.
  if (!(await until(() => readSupervision(dir)?.services[name]?.state !== 'gave-up', { timeoutMs: 5000, intervalMs: 20 })))
    throw new Error(`the supervisor did not take the retry of ${name} (see ${dir.log('supervisor')})`);
}

/** Wait until the supervisor has brought `name` back after `before` restarts (what `ecomnet restart` waits for). */
export async function restartedBySupervisor(dir: RunDir, name: Component, before: number, timeoutMs = 30_000): Promise<void> {
  const now = () => readSupervision(dir)?.services[name];
  const back = await until(
    () => {
      const s = now();
      return s?.state === 'gave-up' || (s !== undefined && s.restarts > before && s.state === 'running');
    },
    { timeoutMs, intervalMs: 50 },
  );
  const s = now();
  if (s?.state === 'gave-up') throw new Error(`the supervisor gave ${name} up: ${s.reason}`);
  if (!back) throw new Error(`${name} did not come back within ${timeoutMs / 1000} s (see ${dir.log('supervisor')})`);
}
