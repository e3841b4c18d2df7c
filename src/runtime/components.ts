import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addressOf, dataAddress, nodeOf, publishedAt } from '../../fixtures/topology.ts';
import { postgresArgv, postgresUrl, waitPostgresReady } from '../data/postgres.ts';
import { redisArgv, redisUrl, waitRedisReady, writeRedisConf } from '../data/redis.ts';
import { inNs, priv, privPrefix, run } from '../host/exec.ts';
import type { Progress } from '../host/network.ts';
import { procStartTime } from '../host/proc.ts';
import type { DataDir, RunDir } from '../host/run-dir.ts';
import { writeState, type ServiceRecord, type State } from '../host/state.ts';
import { SERVICE_NODE_FLAGS } from '../services/config.ts';
import type { Component, DataComponent, DataMode, Topology } from '../topology/types.ts';
import { dropTo, serviceMain, type Account } from './account.ts';
import { nginxConf } from './nginx.ts';
import { writePrivate, type Secrets } from './secrets.ts';
import { fifoLogKeeper, lastLines, spawnInNs } from './spawn.ts';
import { waitFor } from '../wait.ts';

const internetHost = fileURLToPath(new URL('./internet-host.ts', import.meta.url));

/** What starting a component needs: the platform, where its files go, who runs it, and its passwords. */
export interface ServiceContext {
  t: Topology;
  dir: RunDir;
  /** Where the data is kept across runs. */
  store: DataDir;
  state: State;
  progress: Progress;
  user: Account;
  secrets: Secrets;
  data: DataMode;
}

/** Written before the server is waited for, so a crash meanwhile leaves its pid for `down`. */
function recordService(ctx: ServiceContext, rec: ServiceRecord): void {
  ctx.state.services = [...ctx.state.services.filter((s) => s.name !== rec.name), rec];
  writeState(ctx.dir, ctx.state);
}

async function httpOk(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
}

/** Start one component's server in its namespace and wait until it answers from the host. */
async function launchInNamespace(ctx: ServiceContext, c: Component, argv: string[], ready: () => Promise<void>, log = ctx.dir.log(c)): Promise<void> {
  const n = nodeOf(c, ctx.t);
  const t0 = performance.now();
  try {
    const started = await spawnInNs(n.name, argv, log, ctx.dir.pidFile(c));
    recordService(ctx, { name: c, ns: n.name, pid: started.pid, startTime: procStartTime(started.pid), log });
    await Promise.race([ready(), started.exited]);
  } catch (e) {
    throw new Error(`${c} in ${n.name} failed to start: ${(e as Error).message}\n--- last lines of ${log} ---\n${lastLines(log)}`);
  }
  ctx.progress(`${c} ready on ${n.ip}:${n.port}`, performance.now() - t0);
}

/** Containers mode: start a data server's container and wait until it answers at its published address. */
async function launchContainer(ctx: ServiceContext, c: DataComponent, ready: () => Promise<void>): Promise<void> {
  const { startDataContainer } = await import('./containers.ts');
  const at = publishedAt(c, ctx.t);
  const t0 = performance.now();
  const created = (id: string) => {
    ctx.state.containers.push(id);
    writeState(ctx.dir, ctx.state);
  };
  try {
    await startDataContainer({ component: c, tag: ctx.t.tag, at, password: ctx.secrets[c], created });
    await ready();
  } catch (e) {
    throw new Error(`${c} container failed to start: ${(e as Error).message}`);
  }
  ctx.progress(`${c} container ready on ${at.host}:${at.port}`, performance.now() - t0);
}

/**
 * node as the service account, with bounded memory and a compile cache that account owns (a
 * warm cache also spares loading the TypeScript stripper); env, because sudo drops ours.
 */
function nodeArgv(ctx: ServiceContext, script: string, ...args: string[]): string[] {
  return [...dropTo(ctx.user), 'env', `NODE_COMPILE_CACHE=${ctx.dir.compileCache}`, process.execPath, ...SERVICE_NODE_FLAGS, script, ...args];
}

/** One of our Fastify services: its config file (owned by the service account, 0600), then node. */
function appArgv(ctx: ServiceContext, c: 'gateway' | 'product' | 'order', extra: Record<string, string>): string[] {
  const n = nodeOf(c, ctx.t);
  const file = ctx.dir.configFile(`${c}.json`);
  writePrivate(file, JSON.stringify({ service: c, listen: { host: '0.0.0.0', port: n.port }, ...extra }), ctx.user);
  return nodeArgv(ctx, serviceMain, file);
}

const urlOf = (c: Component, t: Topology, path: string) => `http://${addressOf(c, t)}${path}`;

/** Bring one component up (in its namespace, or as a container) and wait until it serves. */
export async function bringUpComponent(ctx: ServiceContext, c: Component): Promise<void> {
  const { t, secrets, dir } = ctx;
  const pgTarget = { ...dataAddress('postgres', ctx.data, t), password: secrets.postgres };
  const redisTarget = { ...dataAddress('redis', ctx.data, t), password: secrets.redis };
  const pgReady = () => waitPostgresReady({ ...pgTarget, timeoutMs: 30_000 });
  const redisReady = () => waitRedisReady({ ...redisTarget, timeoutMs: 15_000 });
  const waitHttp = () => waitFor(() => httpOk(urlOf(c, t, '/health')), { what: c, timeoutMs: 30_000 });
  switch (c) {
    case 'postgres': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, pgReady);
      const pg = nodeOf(c, t);
      return launchInNamespace(ctx, c, postgresArgv({ dataDir: ctx.store.postgres, host: pg.ip, port: pg.port!, hbaFile: dir.configFile('pg_hba.conf'), runAs: 'postgres' }), pgReady);
    }
    case 'redis': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, redisReady);
      const redis = nodeOf(c, t);
      await priv(['install', '-d', '-m', '0700', '-o', 'redis', '-g', 'redis', dir.redisData]);
      const conf = dir.configFile('redis.conf');
      await writeRedisConf(conf, { bind: redis.ip, port: redis.port!, password: secrets.redis, dir: dir.redisData }, { runAs: 'redis', prefix: privPrefix });
      return launchInNamespace(ctx, c, redisArgv({ configFile: conf, runAs: 'redis' }), redisReady);
    }
    case 'product':
      return launchInNamespace(ctx, c, appArgv(ctx, c, { redisUrl: redisUrl(redisTarget) }), waitHttp);
    case 'order':
      return launchInNamespace(ctx, c, appArgv(ctx, c, { pgUrl: postgresUrl(pgTarget) }), waitHttp);
    case 'gateway':
      return launchInNamespace(ctx, c, appArgv(ctx, c, { productUrl: `http://${addressOf('product', t)}`, orderUrl: `http://${addressOf('order', t)}` }), waitHttp);
    case 'nginx': {
      mkdirSync(dir.nginx, { recursive: true });
      const group = (await run(['id', '-gn', ctx.user.name])).stdout.trim();
      // Both logs bounded by log keepers: errors on its stderr, the access log through a named pipe.
      const access = dir.logFifo('nginx-access');
      await fifoLogKeeper(dir.log('nginx-access'), access, dir.pidFile(c));
      writeFileSync(dir.nginxConf, nginxConf(t, { dir: dir.nginx, accessLog: access, errorLog: 'stderr', user: ctx.user.name, group }));
      return launchInNamespace(ctx, c, ['nginx', '-c', dir.nginxConf, '-g', 'daemon off;'], waitHttp, dir.log('nginx-error'));
    }
    case 'internet': {
      const n = nodeOf(c, t);
      // Per-namespace sysctl: lets the unprivileged server bind port 80 there, and only there.
      await priv(inNs(n.name, ['sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']));
      return launchInNamespace(ctx, c, nodeArgv(ctx, internetHost, n.ip, String(n.port)), () => waitFor(() => httpOk(urlOf(c, t, '/')), { what: c, timeoutMs: 10_000 }));
    }
    default:
      return;
  }
}
