/**
 * The platform as one object, in the style of testcontainers: a builder that says what to
 * build, `start()`, and a handle on what started. The CLI, the test run's global setup, the
 * bench and the suites all use it.
 *
 *   const p = await Platform.from(topology).withRunDir(dir).withData('containers').start();
 *   console.log(p.info, await p.status());
 *   await p.stop();
 */
import { topology as defaultTopology } from './topology/default.ts';
import { cleanup, type RemoveOptions } from './cleanup.ts';
import type { PlatformStatus } from './runtime/status.ts';
import { detectBackend } from './host/iptables.ts';
import { listLinks, listNamespaces } from './host/links.ts';
import { acquireLock } from './host/lock.ts';
import type { Progress } from './host/network.ts';
import { sameProcess } from './host/proc.ts';
import { dataDirAt, ensureRunDir, runDirAt, type RunDir } from './host/run-dir.ts';
import { newState, readState, writeState, type State, type StateOptions } from './host/state.ts';
import type { Plan } from './plan/plan.ts';
import type { DataMode, Policy, Topology } from './topology/types.ts';
import type { Secrets } from './runtime/secrets.ts';
import { startSupervisor, supervisorRunning } from './runtime/supervisor.ts';

export type { DataMode };

/** What a started platform is: plain data, as the state file records it. */
export type PlatformInfo = { tag: string; runDir: string } & StateOptions;

/** What the builder is asked for; the uplink is found on the host. */
type Options = Omit<StateOptions, 'uplinkDev' | 'policy'> & { policy: Policy };

export class Platform {
  readonly topology: Topology;
  #dir: RunDir = runDirAt();
  #opts: Options = { data: 'native', networkOnly: false, guard: false, policy: 'deny' };
  #progress: Progress = () => {};
  #say: (line: string) => void = () => {};
  #holder = 'ecomnet';
  #abort: AbortSignal | undefined;
  #secrets: Secrets | undefined;

  private constructor(t: Topology) {
    this.topology = t;
  }

  static from(t: Topology = defaultTopology): Platform {
    return new Platform(t);
  }

  /** Its own state, lock, configs and logs: a second platform beside the main one needs another. */
  withRunDir(path: string): this {
    this.#dir = runDirAt(path);
    return this;
  }

  withData(data: DataMode): this {
    if (data !== 'native' && data !== 'containers') throw new Error(`the data layer must be native or containers, not ${String(data)}`);
    this.#opts.data = data;
    return this;
  }

  /** Phase 1 alone: namespaces, bridge, veths and rules, no services. */
  withNetworkOnly(on = true): this {
    this.#opts.networkOnly = on;
    return this;
  }

  /** Reject the subnet's traffic out of the real uplink (test runs). */
  withGuard(on = true): this {
    this.#opts.guard = on;
    return this;
  }

  /** East-west: `deny` lets namespaces open only the topology's flows (the default); `open` is the seed's flat network. */
  withPolicy(policy: Policy): this {
    if (policy !== 'deny' && policy !== 'open') throw new Error(`the policy must be deny or open, not ${String(policy)}`);
    this.#opts.policy = policy;
    return this;
  }

  /** Each finished step and how long it took. */
  withProgress(progress: Progress): this {
    this.#progress = progress;
    return this;
  }

  /** Lines the preflight prints (packages it installs). */
  withAnnouncements(say: (line: string) => void): this {
    this.#say = say;
    return this;
  }

  /**
   * Stop coming up when `signal` aborts (Ctrl-C during `up`): at the next step, and everything
   * applied so far is rolled back as after a failed step.
   */
  withAbort(signal: AbortSignal): this {
    this.#abort = signal;
    return this;
  }

  /** The run's passwords, instead of new ones: a multi-host platform's hosts share one set (`up --secrets`). */
  withSecrets(secrets: Secrets): this {
    this.#secrets = secrets;
    return this;
  }

  /** How the lock names us to anyone else who tries (`npm test`, `ecomnet up --detach`). */
  heldAs(holder: string): this {
    this.#holder = holder;
    return this;
  }

  get runDir(): RunDir {
    return this.#dir;
  }

  /** The exact commands `start()` would run on this host, computed without changing it. */
  async plan(): Promise<Plan> {
    const [{ buildPlan }, { gatherFacts }] = await Promise.all([import('./plan/plan.ts'), import('./host/facts.ts')]);
    return buildPlan(this.topology, await gatherFacts(this.topology, await detectBackend()), this.#opts);
  }

  /**
   * Build the platform and wait until every service answers; holds the run directory's lock
   * until the handle is stopped or detached. Idempotent: a platform already up as asked is
   * adopted unchanged (`changed` is false); a stale or different one is removed first. A
   * failure rolls back everything and releases the lock.
   */
  async start(): Promise<StartedPlatform> {
    await ensureRunDir(this.#dir);
    const release = acquireLock(this.#dir, this.#holder);
    try {
      const changed = await this.#up();
      return new StartedPlatform(this.topology, this.#dir, changed, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** The platform already running from this run directory, if any (what `status`, `logs` and the suites look at). */
  attach(): StartedPlatform | undefined {
    const state = readState(this.#dir);
    return state?.phase === 'up' ? new StartedPlatform(this.topology, this.#dir, false) : undefined;
  }

  /** Remove whatever of this platform is on the host (a crashed run too), under the lock; with `volumes`, its kept data too. */
  async stop(opts: RemoveOptions = {}): Promise<void> {
    await ensureRunDir(this.#dir);
    await underLock(this.#dir, this.#holder, () => cleanup(this.#dir, this.#progress, this.topology, opts));
  }

  async #up(): Promise<boolean> {
    const t = this.topology;
    const dir = this.#dir;
    const opts = this.#opts;
    const go = () => this.#abort?.throwIfAborted();
    // What only `up` needs loads here, so `down`, `status` and the suites stay light.
    const [{ ensurePackages }, { gatherFacts }, { applyNetwork, networkMatches }, { buildPlan }, { containerRunning, requireEngine }, { prepareServices, settled, startInOrder }] = await Promise.all([
      import('./host/doctor.ts'),
      import('./host/facts.ts'),
      import('./host/network.ts'),
      import('./plan/plan.ts'),
      import('./runtime/engine.ts'),
      import('./runtime/start-order.ts'),
    ]);
    if (opts.data === 'containers' && !opts.networkOnly) {
      await requireEngine();
      await (await import('./runtime/images.ts')).chooseImages(this.#say);
    }
    await ensurePackages(opts.networkOnly ? 'network' : 'services', this.#say);
    go();
    const backend = await detectBackend();
    const facts = await gatherFacts(t, backend);
    const plan = buildPlan(t, facts, opts);
    const previous = readState(dir);
    // Where the data is kept (native: the cluster; containers: the password of the volume's); network only keeps nothing.
    const dataDir = opts.networkOnly ? undefined : dataDirAt(t.tag).root;
    if (
      previous?.phase === 'up' &&
      previous.dataDir === dataDir &&
      previous.tag === t.tag &&
      sameOptions(previous, opts) &&
      previous.services.every(sameProcess) &&
      (opts.networkOnly || supervisorRunning(previous.supervisor)) &&
      (await networkMatches(plan, backend)) &&
      (await Promise.all(previous.containers.map(containerRunning))).every(Boolean)
    )
      return false;
    await cleanup(dir, this.#progress, t);
    go();
    await refuseForeign(plan, dir);
    const state = newState(t.tag, { ...opts, uplinkDev: facts.uplinkDev }, dataDir);
    // initdb and the rest of the preparation need no network: they overlap its construction.
    const prepared = prepareServices(t, dir, state, { ...opts, ...(this.#secrets ? { secrets: this.#secrets } : {}) }, this.#progress);
    prepared.catch(() => {});
    try {
      await applyNetwork(dir, plan, backend, state, this.#progress);
      go();
      await startInOrder(await prepared, state, this.#progress);
      go();
      state.phase = 'up';
      writeState(dir, state);
      // From here the supervisor writes the state (it records itself in it first).
      if (!opts.networkOnly) await startSupervisor(dir, t);
      go();
    } catch (e) {
      // The preparation, and a cluster still being made, settle before anything is removed.
      await settled(await prepared.catch(() => undefined));
      // The step that failed is the news; a rollback that fails too must not hide it.
      await cleanup(dir, () => {}, t).catch((rollback: Error) => {
        throw new Error(`${(e as Error).message}\nand rolling back failed too: ${rollback.message}`);
      });
      throw e;
    }
    return true;
  }
}

function sameOptions(s: State, opts: Options): boolean {
  return s.options.guard === opts.guard && s.options.networkOnly === opts.networkOnly && s.options.data === opts.data && (s.options.policy ?? 'open') === opts.policy;
}

/** Refuse to adopt a namespace or link that has our name but that no state of ours created. */
async function refuseForeign(plan: Plan, dir: RunDir): Promise<void> {
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const clash = [...plan.namespaces.filter((n) => ns.includes(n)).map((n) => `namespace ${n}`), ...plan.bridges.filter((b) => links.includes(b)).map((b) => `link ${b}`)];
  if (clash.length) throw new Error(`${clash.join(', ')} already exist and are not recorded as ours in ${dir.state}; remove them (ip netns del / ip link del) or choose other names in the topology`);
}

/** A platform that is up: what it is, its health, and its removal. */
export class StartedPlatform {
  readonly topology: Topology;
  readonly dir: RunDir;
  /** False when `start()` found it already up as asked and changed nothing. */
  readonly changed: boolean;
  /** Set while this handle holds the run directory's lock (started, not detached). */
  #release: (() => void) | undefined;

  constructor(t: Topology, dir: RunDir, changed: boolean, release?: () => void) {
    this.topology = t;
    this.dir = dir;
    this.changed = changed;
    this.#release = release;
  }

  get info(): PlatformInfo {
    const s = readState(this.dir);
    if (!s) throw new Error(`no platform is recorded in ${this.dir.state}`);
    return { tag: s.tag, runDir: this.dir.root, ...s.options };
  }

  async status(): Promise<PlatformStatus> {
    return (await import('./runtime/status.ts')).status(this.topology, this.dir);
  }

  /** Leave it running (`up --detach`): the lock goes, the platform stays. */
  detach(): void {
    this.#release?.();
    this.#release = undefined;
  }

  /** Remove it from the host under the lock: the one it holds, or one taken now (attached, detached); with `volumes`, its kept data too. */
  async stop(progress: Progress = () => {}, opts: RemoveOptions = {}): Promise<void> {
    const remove = () => cleanup(this.dir, progress, this.topology, opts);
    if (!this.#release) return underLock(this.dir, 'ecomnet down', remove);
    try {
      await remove();
    } finally {
      this.detach();
    }
  }
}

async function underLock(dir: RunDir, holder: string, fn: () => Promise<void>): Promise<void> {
  const release = acquireLock(dir, holder);
  try {
    await fn();
  } finally {
    release();
  }
}
