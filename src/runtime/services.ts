import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressOf, dataAddress, nodeOf, publishedAt } from '../../fixtures/topology.ts';
import { initPostgres, postgresArgv, postgresUrl, waitPostgresReady, writePgHba } from '../data/postgres.ts';
import { generatePassword } from '../data/password.ts';
import { redisArgv, redisUrl, waitRedisReady, writeRedisConf } from '../data/redis.ts';
import { waitUntil } from '../data/child.ts';
import { isRoot, priv, privPrefix, run } from '../host/exec.ts';
import { readState, runDir, writeState, type ServiceRecord, type State } from '../host/state.ts';
import type { Progress } from '../host/network.ts';
import type { Component, DataComponent, DataMode, Topology } from '../topology/types.ts';
import { SERVICE_NODE_FLAGS } from '../services/config.ts';
import { nginxConf } from './nginx.ts';
import { account, dropTo, lastLines, spawnInNs, stopPid, type Account } from './spawn.ts';

export interface Secrets {
  postgres: string;
  redis: string;
}

export const secretsPath = join(runDir, 'secrets.json');
const logDir = join(runDir, 'logs');
const configDir = join(runDir, 'config');
const pgDataDir = join(runDir, 'postgres');
/** Kept across runs (it only speeds start-up), owned by the service account. */
const compileCache = join(runDir, 'node-cache');
const pgHbaFile = join(configDir, 'pg_hba.conf');
const mainTs = fileURLToPath(new URL('../services/main.ts', import.meta.url));
const internetTs = fileURLToPath(new URL('./internet-host.ts', import.meta.url));

export function readSecrets(): Secrets | undefined {
  try {
    return JSON.parse(readFileSync(secretsPath, 'utf8')) as Secrets;
  } catch {
    return undefined;
  }
}

export function logPath(name: string): string {
  return join(logDir, `${name}.log`);
}

/** Who our own services run as: root only enters the namespace. */
async function serviceAccount(): Promise<Account> {
  if (process.env.ECOMNET_SERVICE_USER) return account(process.env.ECOMNET_SERVICE_USER);
  if (!isRoot) return account(userInfo().username);
  const nobody = await account('nobody');
  return (await canRun(nobody)) ? nobody : { ...nobody, readAll: true };
}

async function canRun(a: Account): Promise<boolean> {
  const r = await priv([...dropTo(a), process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(mainTs)})`], { allowFail: true });
  return r.exitCode === 0;
}

/**
 * The service account must be able to read the code and run node, or it would fail later,
 * obscurely. A checkout nobody can reach (under /root) is read with CAP_DAC_READ_SEARCH alone.
 */
async function checkReadable(a: Account, progress: Progress): Promise<void> {
  if (!(await canRun(a))) throw new Error(`user ${a.name} cannot read ${mainTs} or run ${process.execPath}; put the checkout and node where ${a.name} can read them, or set ECOMNET_SERVICE_USER`);
  if (a.readAll) progress(`services run as ${a.name}, allowed to read (not write) every file: ${checkoutOf(mainTs)} is not readable by ${a.name}`, 0);
}

const checkoutOf = (file: string) => file.slice(0, file.lastIndexOf('/src/'));

function writePrivate(file: string, content: string, owner?: Account): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
  if (owner && isRoot) chownSync(file, owner.uid, owner.gid);
}

interface Ctx {
  t: Topology;
  state: State;
  progress: Progress;
  user: Account;
  secrets: Secrets;
  data: DataMode;
}

export const dataMode = (state: State): DataMode => (state.options.data === 'containers' ? 'containers' : 'native');

/** The order things start in: each waits for what it depends on, independent ones in parallel. */
const waves: Component[][] = [['postgres', 'redis', 'internet'], ['product', 'order'], ['gateway'], ['nginx']];

function record(ctx: Ctx, rec: ServiceRecord): void {
  ctx.state.services = [...ctx.state.services.filter((s) => s.name !== rec.name), rec];
  writeState(ctx.state);
}

async function httpOk(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
}

/** Start one component's server in its namespace and wait until it answers from the host. */
async function launch(ctx: Ctx, c: Component, argv: string[], ready: () => Promise<void>): Promise<void> {
  const n = nodeOf(c, ctx.t);
  const log = logPath(c);
  const t0 = performance.now();
  try {
    const started = await spawnInNs(n.name, argv, log, join(logDir, `${c}.pid`));
    record(ctx, { name: c, ns: n.name, pid: started.pid, log });
    await Promise.race([ready(), started.exited]);
  } catch (e) {
    throw new Error(`${c} in ${n.name} failed to start: ${(e as Error).message}\n--- last lines of ${log} ---\n${lastLines(log)}`);
  }
  ctx.progress(`${c} ready on ${n.ip}:${n.port}`, performance.now() - t0);
}

/** Containers mode: start a data server's container and wait until it answers at its published address. */
async function launchContainer(ctx: Ctx, c: DataComponent, ready: () => Promise<void>): Promise<void> {
  const { startDataContainer } = await import('./containers.ts');
  const at = publishedAt(c, ctx.t);
  const t0 = performance.now();
  const created = (id: string) => {
    ctx.state.containers.push(id);
    writeState(ctx.state);
  };
  try {
    await startDataContainer({ component: c, tag: ctx.t.tag, at, password: ctx.secrets[c], created });
    await ready();
  } catch (e) {
    throw new Error(`${c} container failed to start: ${(e as Error).message}`);
  }
  ctx.progress(`${c} container ready on ${at.host}:${at.port}`, performance.now() - t0);
}

function appArgv(ctx: Ctx, c: 'gateway' | 'product' | 'order', extra: Record<string, string>): string[] {
  const n = nodeOf(c, ctx.t);
  const file = join(configDir, `${c}.json`);
  writePrivate(file, JSON.stringify({ service: c, listen: { host: '0.0.0.0', port: n.port }, ...extra }), ctx.user);
  return nodeArgv(ctx, mainTs, file);
}

/**
 * node as the service account, with bounded memory and a compile cache that account owns (a
 * warm cache also spares loading the TypeScript stripper); env, because sudo drops ours.
 */
function nodeArgv(ctx: Ctx, script: string, ...args: string[]): string[] {
  return [...dropTo(ctx.user), 'env', `NODE_COMPILE_CACHE=${compileCache}`, process.execPath, ...SERVICE_NODE_FLAGS, script, ...args];
}

const urlOf = (c: Component, t: Topology, path: string) => `http://${addressOf(c, t)}${path}`;

async function startComponent(ctx: Ctx, c: Component): Promise<void> {
  const { t, secrets } = ctx;
  const pg = nodeOf('postgres', t);
  const redis = nodeOf('redis', t);
  const pgTarget = { ...dataAddress('postgres', ctx.data, t), password: secrets.postgres };
  const redisTarget = { ...dataAddress('redis', ctx.data, t), password: secrets.redis };
  const pgReady = () => waitPostgresReady({ ...pgTarget, timeoutMs: 30_000 });
  const redisReady = () => waitRedisReady({ ...redisTarget, timeoutMs: 15_000 });
  const waitHttp = () => waitUntil(() => httpOk(urlOf(c, t, '/health')), 30_000, c);
  const waitHttpRoot = () => waitUntil(() => httpOk(urlOf(c, t, '/')), 10_000, c);
  switch (c) {
    case 'postgres': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, pgReady);
      return launch(ctx, c, postgresArgv({ dataDir: pgDataDir, host: pg.ip, port: pg.port!, hbaFile: pgHbaFile, runAs: 'postgres' }), pgReady);
    }
    case 'redis': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, redisReady);
      const dir = join(runDir, 'redis');
      await priv(['install', '-d', '-m', '0700', '-o', 'redis', '-g', 'redis', dir]);
      const conf = join(configDir, 'redis.conf');
      await writeRedisConf(conf, { bind: redis.ip, port: redis.port!, password: secrets.redis, dir }, { runAs: 'redis', prefix: privPrefix });
      return launch(ctx, c, redisArgv({ configFile: conf, runAs: 'redis' }), redisReady);
    }
    case 'product':
      return launch(ctx, c, appArgv(ctx, c, { redisUrl: redisUrl(redisTarget) }), waitHttp);
    case 'order':
      return launch(ctx, c, appArgv(ctx, c, { pgUrl: postgresUrl(pgTarget) }), waitHttp);
    case 'gateway':
      return launch(ctx, c, appArgv(ctx, c, { productUrl: `http://${addressOf('product', t)}`, orderUrl: `http://${addressOf('order', t)}` }), waitHttp);
    case 'nginx': {
      const dir = join(runDir, 'nginx');
      mkdirSync(dir, { recursive: true });
      const group = (await run(['id', '-gn', ctx.user.name])).stdout.trim();
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConf(t, { dir, accessLog: logPath('nginx-access'), errorLog: logPath('nginx-error'), user: ctx.user.name, group }));
      return launch(ctx, c, ['nginx', '-c', conf, '-g', 'daemon off;'], waitHttp);
    }
    case 'internet': {
      const n = nodeOf(c, t);
      // Per-namespace sysctl: lets the unprivileged server bind port 80 there, and only there.
      await priv(['ip', 'netns', 'exec', n.name, 'sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']);
      return launch(ctx, c, nodeArgv(ctx, internetTs, n.ip, String(n.port)), waitHttpRoot);
    }
    default:
      return;
  }
}

/** What can be done before the network exists: accounts, secrets, configs, and the slow initdb. */
export interface Prepared {
  t: Topology;
  user: Account;
  secrets: Secrets;
  data: DataMode;
  waves: Component[][];
}

/**
 * The components this run starts (network only: just the simulated internet host), prepared
 * while the network is being built; undefined when there is nothing to start.
 */
export async function prepareServices(t: Topology, opts: { networkOnly: boolean; data: DataMode }, progress: Progress): Promise<Prepared | undefined> {
  const present = new Set([...t.app.nodes, ...t.outside.nodes].map((n) => n.component));
  const selected = waves.map((w) => w.filter((c) => present.has(c) && (!opts.networkOnly || c === 'internet'))).filter((w) => w.length);
  if (!selected.length) return undefined;
  if (existsSync(logDir)) await priv(['rm', '-rf', logDir]);
  mkdirSync(logDir, { recursive: true });
  mkdirSync(configDir, { recursive: true });
  const user = await serviceAccount();
  await checkReadable(user, progress);
  await priv(['install', '-d', '-m', '0700', '-o', String(user.uid), '-g', String(user.gid), compileCache]);
  const secrets: Secrets = { postgres: generatePassword(), redis: generatePassword() };
  writePrivate(secretsPath, JSON.stringify(secrets));
  if (opts.data === 'native' && selected.flat().includes('postgres')) {
    const t0 = performance.now();
    // /run is emptied by a reboot anyway, so the cluster's creation need not be fsynced.
    await initPostgres({ dataDir: pgDataDir, password: secrets.postgres, runAs: 'postgres', prefix: privPrefix, noSync: true });
    // Only the order service and the operator on the host (psql from the bridge address) may log in.
    await writePgHba(pgHbaFile, [nodeOf('order', t).ip, t.app.bridge.ip]);
    progress('postgres cluster initialised (initdb)', performance.now() - t0);
  }
  return { t, user, secrets, data: opts.data, waves: selected };
}

/** Start what was prepared, wave by wave: each component waits for what it depends on. */
export async function startServices(p: Prepared | undefined, state: State, progress: Progress): Promise<void> {
  if (!p) return;
  const ctx: Ctx = { ...p, state, progress };
  for (const wave of p.waves) await Promise.all(wave.map((c) => startComponent(ctx, c)));
}

/** Graceful stop in reverse dependency order; whatever remains dies with the namespaces. */
export async function stopServices(state: State | undefined, progress: Progress): Promise<void> {
  if (!state?.services.length) return;
  const t0 = performance.now();
  for (const wave of [...waves].reverse()) {
    const recs = state.services.filter((s) => wave.includes(s.name as Component));
    await Promise.all(recs.map((s) => stopPid(s.pid, s.name === 'postgres' ? 'INT' : 'TERM')));
  }
  const latest = readState();
  if (latest) writeState({ ...latest, services: [] });
  progress(`stopped ${state.services.length} services`, performance.now() - t0);
}

/** Remove what a run wrote (data, configs, secrets); logs stay for a post-mortem until the next `up`. */
export async function removeRunFiles(): Promise<void> {
  const paths = ['postgres', 'redis', 'config', 'nginx', 'secrets.json'].map((p) => join(runDir, p)).filter((p) => existsSync(p));
  if (paths.length) await priv(['rm', '-rf', ...paths]);
}

/** Stop one service and start it again with the same configuration (its data stays). */
export async function restartService(t: Topology, c: Component, progress: Progress): Promise<void> {
  const state = readState();
  const rec = state?.services.find((s) => s.name === c);
  if (!state || !rec) throw new Error(`${c} is not running`);
  const secrets = readSecrets();
  if (!secrets) throw new Error('no secrets for this run');
  if (c !== 'gateway' && c !== 'product' && c !== 'order') throw new Error(`restart of ${c} is not supported; use down and up`);
  await stopPid(rec.pid);
  await startComponent({ t, state, progress, user: await serviceAccount(), secrets, data: dataMode(state) }, c);
}

