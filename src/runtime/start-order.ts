import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeOf } from '../topology/default.ts';
import { priv, privPrefix } from '../host/exec.ts';
import type { Progress } from '../host/network.ts';
import { dataDirAt, ensureDataDir, ensureRunDir, type DataDir, type RunDir } from '../host/run-dir.ts';
import { readState, validateState, writeState, type State } from '../host/state.ts';
import type { Component, DataMode, Topology } from '../topology/types.ts';
import { ensureAccounts } from './account.ts';
import { ACCOUNT_ROLES, type Account, type AccountRole, accountName, localAccount, nobody } from '../host/accounts.ts';
import { newSecrets, readSecrets, writeSecrets, type Secrets } from './secrets.ts';
import { makeLogDir } from './log-keeper.ts';
import { stopPid } from './spawn.ts';
import { type Code, codeOf, runnableCode } from './stage.ts';
import type { ServiceContext } from './components.ts';
import { readSupervision, restartedBySupervisor, retrySupervised, supervisorRunning } from './supervisor.ts';

/** The order things stop in, each stage after the one before: whoever calls a component stops before it. */
const stopStages: Component[][] = [['nginx'], ['gateway'], ['product', 'order'], ['postgres', 'redis', 'internet']];

/**
 * What a component needs serving before it starts: only what it contacts as it starts. The
 * gateway and nginx reach theirs per request (one refused is their 503, as while the supervisor
 * restarts it), and `up` waits until every component serves, so they start at once with the
 * rest instead of after the chain behind them. What starts them (and their database clients) is
 * loaded only when something starts, so `down` and `up --network-only` stay light.
 */
const startsAfter: Partial<Record<Component, Component[]>> = { product: ['redis'], order: ['postgres'] };

/** What can be done before the network exists: accounts, code, secrets, configs, and the slow initdb. */
export interface Prepared {
  t: Topology;
  dir: RunDir;
  /** Where the data is kept across runs (native: the PostgreSQL cluster; containers: its volume's password). */
  store: DataDir;
  /** Absent when only the network (and the simulated internet host) is up. */
  accounts?: Record<AccountRole, Account>;
  code: Code;
  secrets: Secrets;
  data: DataMode;
  /** What this run starts (network only: the simulated internet host alone). */
  components: Component[];
  /**
   * The PostgreSQL cluster on disk (native data), made while everything else starts: PostgreSQL
   * alone waits for it, not for what goes on behind it (ClusterMade.behind).
   */
  cluster?: Promise<ClusterMade>;
  /** The services' compile caches being filled (warmCompileCaches): each service waits for its own. */
  warmed?: ServiceContext['warmed'];
}

/** A cluster ready for its server, and the work a fresh one leaves going on, which `up` awaits before it ends, the server started meanwhile. */
export interface ClusterMade {
  /** A fresh cluster's flush to disk and mark of completion, and the template's next spare made. In an object, not resolved to: a promise resolved to a promise waits for it. */
  behind: Promise<void>;
}

/**
 * The components this run starts (network only: just the simulated internet host), prepared
 * while the network is being built; undefined when there is nothing to start. Accounts it
 * creates are recorded in `state` first.
 */
export async function prepareServices(t: Topology, dir: RunDir, state: State, opts: { networkOnly: boolean; data: DataMode; secrets?: Secrets }, progress: Progress): Promise<Prepared | undefined> {
  const present = new Set([...t.app.nodes, ...t.outside.nodes].map((n) => n.component));
  const components = stopStages.flat().filter((c) => present.has(c) && (!opts.networkOnly || c === 'internet'));
  if (!components.length) return undefined;
  if (existsSync(dir.logs)) await priv(['rm', '-rf', dir.logs]);
  makeLogDir(dir.logs);
  mkdirSync(dir.config, { recursive: true });
  // New for every up, unless given: the hosts of a multi-host platform share one set.
  const secrets = opts.secrets ? { ...opts.secrets } : newSecrets();
  const store = dataDirAt(t.tag);
  if (opts.data === 'containers' && components.includes('postgres')) secrets.postgres = await keptContainerPassword(t, store, secrets.postgres);
  writeSecrets(dir, secrets);
  // The cluster is the slowest (a copy of the template, or initdb) and only PostgreSQL needs it: it
  // goes on while the accounts are made and the other servers start. It is never left running when
  // something else fails: a rollback waits for it (settled).
  const cluster = opts.data === 'native' && components.includes('postgres') ? initCluster(t, dir, store, secrets, progress) : undefined;
  cluster?.catch(() => {});
  try {
    const users = await prepareAccounts(t, dir, state, components, progress);
    await priv(['rm', '-rf', dir.compileCache]);
    await priv(['install', '-d', '-m', '0755', dir.compileCache]);
    const warmed = users.accounts && (await (await import('./components.ts')).warmCompileCaches(dir, users.accounts, users.code));
    return { t, dir, store, ...users, secrets, data: opts.data, components, ...(cluster !== undefined ? { cluster } : {}), ...(warmed ? { warmed } : {}) };
  } catch (e) {
    await settled(cluster !== undefined ? { cluster } : undefined);
    throw e;
  }
}

/**
 * The accounts of the services and nginx that this run starts (none for the network alone), and
 * code they can run: any account will do for that, none has a group or capability the others lack.
 */
async function prepareAccounts(t: Topology, dir: RunDir, state: State, components: Component[], progress: Progress): Promise<Pick<Prepared, 'accounts' | 'code'>> {
  const t0 = performance.now();
  const needed = components.some((c) => (ACCOUNT_ROLES as readonly string[]).includes(c));
  const accounts = needed
    ? await ensureAccounts(t, (name) => {
        state.accounts = [...(state.accounts ?? []), name];
        writeState(dir, state);
      })
    : undefined;
  if (accounts) progress(`accounts ${ACCOUNT_ROLES.map((r) => accounts[r].name).join(', ')}${state.accounts?.length ? ` (created ${state.accounts.join(', ')})` : ''}`, performance.now() - t0);
  return { accounts, code: await runnableCode(dir, accounts?.gateway ?? nobody(), progress) };
}

/**
 * The PostgreSQL cluster on disk, kept across runs (its superuser's password renewed), or made
 * from the template (then its flush, its mark of completion and the template's next spare go on
 * behind it, which the server's start need not wait for); and who may log in: only the order
 * service and the operator on the host (psql from the bridge address).
 */
async function initCluster(t: Topology, dir: RunDir, store: DataDir, secrets: Secrets, progress: Progress): Promise<ClusterMade> {
  const t0 = performance.now();
  const { clusterFromTemplate, ORDER_ROLE, setPostgresPassword, writePgHba } = await import('../data/postgres.ts');
  await ensureDataDir(store);
  const cluster = { dataDir: store.postgres, password: secrets.postgres, runAs: 'postgres', prefix: privPrefix };
  const kept = (await priv(['test', '-f', store.postgresReady], { allowFail: true })).exitCode === 0;
  let made: string | undefined;
  let behind = Promise.resolve();
  if (kept) await setPostgresPassword(cluster);
  else {
    // A cluster without the mark is one whose creation was cut short: nothing in it to keep.
    await priv(['rm', '-rf', store.postgres]);
    const copy = await clusterFromTemplate(cluster);
    made = copy.built ? 'the template made by initdb, then copied' : copy.fromSpare ? 'the spare copy of the template' : 'a copy of the template';
    // The next spare too: this run's work, which it does not leave running.
    behind = Promise.all([copy.flushed.then(() => priv(['touch', store.postgresReady])), copy.nextSpare]).then(() => undefined);
    // Awaited by startInOrder; a failure before it (the network's) leaves it unmarked, for the next up to make again.
    behind.catch(() => {});
  }
  // From the order service's address only its own role: the superuser's and the reader's passwords are no use there.
  await writePgHba(dir.configFile('pg_hba.conf'), [{ address: nodeOf('order', t).ip, user: ORDER_ROLE }, t.app.bridge.ip]);
  progress(kept ? `postgres cluster kept in ${store.postgres}, password renewed` : `postgres cluster initialised in ${store.postgres} (${made})`, performance.now() - t0);
  return { behind };
}

/**
 * Containers mode: the image sets the superuser's password only when it initialises an empty
 * volume, so the password of a kept volume is the one kept beside it; a new volume gets `fresh`,
 * kept before the container starts.
 */
async function keptContainerPassword(t: Topology, store: DataDir, fresh: string): Promise<string> {
  const { volumeKept, volumeName } = await import('./engine.ts');
  await ensureDataDir(store);
  const volume = volumeName(t.tag, 'postgres');
  if (await volumeKept(volume, t.tag)) {
    const kept = (await priv(['cat', store.postgresPassword], { allowFail: true })).stdout.trim();
    if (!/^[A-Za-z0-9_-]+$/.test(kept)) throw new Error(`the volume ${volume} holds PostgreSQL data whose password is not in ${store.postgresPassword}; \`ecomnet down --volumes\` removes both`);
    return kept;
  }
  await priv(['sh', '-c', 'umask 077 && cat > "$1"', 'sh', store.postgresPassword], { input: fresh });
  return fresh;
}

/**
 * Start what was prepared, each component as soon as what it needs serves. Every start is
 * settled before a failure is reported, so the rollback that follows races no launch; one whose
 * need failed is not started.
 */
export async function startInOrder(p: Prepared | undefined, state: State, progress: Progress): Promise<void> {
  if (!p) return;
  const ctx = { ...p, state, progress };
  const { bringUpComponent } = await import('./components.ts');
  const starts = new Map<Component, Promise<void>>();
  const start = (c: Component): Promise<void> => {
    let started = starts.get(c);
    if (!started) {
      const needs = (startsAfter[c] ?? []).filter((d) => p.components.includes(d));
      started = Promise.all([...needs.map(start), ...(c === 'postgres' && p.cluster !== undefined ? [p.cluster] : [])]).then(() => bringUpComponent(ctx, c));
      starts.set(c, started);
    }
    return started;
  };
  const failed = (await Promise.allSettled([...p.components.map(start), p.cluster?.then((made) => made.behind)])).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Once what the preparation left running (a cluster being made and flushed, compile caches being filled) has settled, whatever its outcome: what a rollback waits for. */
export async function settled(p: Pick<Prepared, 'cluster' | 'warmed'> | undefined): Promise<void> {
  await Promise.all([p?.cluster?.then((made) => made.behind).catch(() => {}), ...Object.values(p?.warmed ?? {})]);
}

/** Graceful stop in reverse start order; whatever remains dies with the namespaces. */
export async function stopInOrder(dir: RunDir, state: State, progress: Progress): Promise<void> {
  if (!state.services.length) return;
  const t0 = performance.now();
  for (const stage of stopStages) {
    const recs = state.services.filter((s) => stage.includes(s.name as Component));
    await Promise.all(recs.map((s) => stopPid(s, s.name === 'postgres' ? 'INT' : 'TERM')));
  }
  // A state of an earlier version has no start times: those pids cannot be told from a reused one.
  const unproven = state.services.filter((s) => s.startTime === undefined).map((s) => `${s.name} (pid ${s.pid})`);
  const stopped = state.services.length - unproven.length;
  writeState(dir, Object.assign(state, { services: [] }));
  progress(`stopped ${stopped} services${unproven.length ? `; not signalled, no start time recorded (they go with their namespaces): ${unproven.join(', ')}` : ''}`, performance.now() - t0);
}

/** Stop one of our services and start it again with the same configuration (its data stays). */
export async function restartService(t: Topology, dir: RunDir, c: Component, progress: Progress): Promise<void> {
  if (c !== 'gateway' && c !== 'product' && c !== 'order') throw new Error(`restart of ${c} is not supported; use down and up`);
  // Root signals a pid and runs a server from what it reads there: only from a directory no one else can change.
  await ensureRunDir(dir);
  const state = validateState(readState(dir), t);
  const rec = state?.services.find((s) => s.name === c);
  if (!state || !rec) throw new Error(`${c} is not running`);
  if (rec.startTime === undefined) throw new Error(`${c} (pid ${rec.pid}) has no recorded start time (started by an earlier version), so it is not signalled; run \`ecomnet down\` and \`ecomnet up\``);
  const secrets = readSecrets(dir);
  if (!secrets) throw new Error('no secrets for this run');
  if (supervisorRunning(state.supervisor)) {
    // The supervisor owns the services while it runs: it starts the stopped one again, so two never race.
    const supervised = readSupervision(dir)?.services[c];
    if (supervised?.state === 'held') throw new Error(`${c} is held down (ecomnet fault kill --hold); \`ecomnet fault clear\` brings it back`);
    // One it gave up is tried again, its count of recent restarts started over.
    if (supervised?.state === 'gave-up') await retrySupervised(dir, state.supervisor!, c);
    else await stopPid(rec);
    await restartedBySupervisor(dir, c, supervised?.restarts ?? 0);
    progress(`${c} restarted by the supervisor`, 0);
    return;
  }
  await stopPid(rec);
  const { bringUpComponent } = await import('./components.ts');
  await bringUpComponent({ t, dir, store: keptDataOf(t, state), state, progress, accounts: existingAccounts(t), code: codeOf(dir), secrets, data: state.options.data }, c);
}

/** Where the running platform keeps its data (the state's record; the default for states of earlier versions), for a restart. */
export const keptDataOf = (t: Topology, state: State): DataDir => (state.dataDir ? dataDirAt(t.tag, dirname(state.dataDir)) : dataDirAt(t.tag));

/** The accounts `up` made sure of, for a restart. */
export function existingAccounts(t: Topology): Record<AccountRole, Account> {
  const entries = ACCOUNT_ROLES.map((r) => {
    const a = localAccount(accountName(t, r));
    if (!a) throw new Error(`account ${accountName(t, r)} is missing; run \`ecomnet down\` and \`ecomnet up\``);
    return [r, a] as const;
  });
  return Object.fromEntries(entries) as Record<AccountRole, Account>;
}
