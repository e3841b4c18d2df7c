import { createHash } from 'node:crypto';
import { chmodSync, closeSync, type Dirent, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { addressOf, dataAddress, nodeOf, publishedAt } from '../topology/default.ts';
import { ORDER_ROLE, pgTemplates, postgresArgv, postgresUrl, provisionOrderRoles } from '../data/postgres.ts';
import { redisArgv, redisUrl, writeRedisConf } from '../data/redis.ts';
import { inNs, priv, privPrefix } from '../host/exec.ts';
import { openForAppend, writeNewFile } from '../host/files.ts';
import type { Progress } from '../host/network.ts';
import { processTree, procStartTime } from '../host/proc.ts';
import { type DataDir, ensureDataDir, type RunDir } from '../host/run-dir.ts';
import { writeState, type ServiceRecord, type State } from '../host/state.ts';
import { SERVICE_NODE_FLAGS } from '../services/config.ts';
import type { Component, DataComponent, DataMode, Topology } from '../topology/types.ts';
import { dropTo } from './account.ts';
import { type Account, type AccountRole, groupName, nobody } from '../host/accounts.ts';
import { internetHostConf, nginxConf } from './nginx.ts';
import { corePlacement, setAffinity, usableCpus } from './placement.ts';
import { platformReadiness } from './platform-readiness.ts';
import { writeOwnedBy, type Secrets } from './secrets.ts';
import { lastLines, spawnInNs } from './spawn.ts';
import type { Code } from './stage.ts';

/** What starting a component needs: the platform, where its files go, who runs what, and its passwords. */
export interface ServiceContext {
  t: Topology;
  dir: RunDir;
  /** Where the data is kept across runs. */
  store: DataDir;
  state: State;
  progress: Progress;
  /** Absent when only the network (and the simulated internet host) is up. */
  accounts?: Record<AccountRole, Account>;
  code: Code;
  secrets: Secrets;
  data: DataMode;
  /** Each service's compile cache, being filled while the platform comes up (warmCompileCaches); absent for a restart, whose cache is warm. */
  warmed?: Partial<Record<AppService, Promise<void>>>;
}

type AppService = 'gateway' | 'product' | 'order';
const APP_SERVICES: AppService[] = ['gateway', 'product', 'order'];

function accountOf(ctx: ServiceContext, role: AccountRole): Account {
  if (!ctx.accounts) throw new Error(`no account was prepared for ${role}`);
  return ctx.accounts[role];
}

/** Written before the server is waited for, so a crash meanwhile leaves its pid for `down`. */
function recordService(ctx: ServiceContext, rec: ServiceRecord): void {
  ctx.state.services = [...ctx.state.services.filter((s) => s.name !== rec.name), rec];
  writeState(ctx.dir, ctx.state);
}

let usable: number[] | undefined;
const cpus = () => (usable ??= usableCpus());

/** Start one component's server in its namespace (on its CPU of the request path, placement.ts) and wait until it answers from the host. */
async function launchInNamespace(ctx: ServiceContext, c: Component, argv: string[], ready: () => Promise<void>, log = ctx.dir.log(c), direct = false): Promise<void> {
  const n = nodeOf(c, ctx.t);
  const t0 = performance.now();
  const cpu = corePlacement(ctx.t, cpus()).get(n.name);
  try {
    const started = await spawnInNs(n.name, argv, log, ctx.dir.pidFile(c), direct);
    recordService(ctx, { name: c, ns: n.name, pid: started.pid, startTime: procStartTime(started.pid), log });
    await Promise.race([ready(), started.exited]);
    // Placed once ready, not from its exec: starting (Node loading its modules) uses every CPU,
    // where two services placed on one would start one after the other.
    if (cpu !== undefined) await setAffinity(String(cpu), processTree(started.pid));
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

/** node as `a`, with bounded memory and no capability; env, because sudo drops ours. */
function nodeArgv(a: Account, env: string[], script: string, ...args: string[]): string[] {
  return [...dropTo(a), 'env', ...env, process.execPath, ...SERVICE_NODE_FLAGS, script, ...args];
}

/**
 * One of our Fastify services, as its own account: its config file (that account's, 0600: it
 * holds credentials), and a filled compile cache (serviceCompileCache), which also spares a
 * restart loading the TypeScript stripper.
 */
async function appArgv(ctx: ServiceContext, c: 'gateway' | 'product' | 'order', extra: Record<string, string>): Promise<string[]> {
  const n = nodeOf(c, ctx.t);
  const a = accountOf(ctx, c);
  const file = ctx.dir.configFile(`${c}.json`);
  await writeOwnedBy(file, JSON.stringify({ service: c, listen: { host: '0.0.0.0', port: n.port }, ...extra }), a);
  await ctx.warmed?.[c];
  return nodeArgv(a, [`NODE_COMPILE_CACHE=${await serviceCompileCache(ctx.dir, ctx.code, c, a)}`], ctx.code.main, file);
}

/** The service's compile cache directory of this run: its account's alone (0700). */
async function compileCacheDir(dir: RunDir, c: AppService, a: Account): Promise<void> {
  await priv(['install', '-d', '-m', '0700', '-o', String(a.uid), '-g', String(a.gid), dir.cacheOf(c)]);
}

/** The key of each version of the code seen (keptCaches), computed once a process. */
const codeKeys = new Map<string, string>();

/**
 * Where filled compile caches are kept between runs: beside the PostgreSQL template (root's, a
 * cache as it is), one set per version of the services' code, their packages and Node, so a change
 * of any of them fills them again. Node checks each entry against its source anyway; the key only
 * keeps a stale set from being reused forever.
 */
function keptCaches(code: Code): string {
  let key = codeKeys.get(code.main);
  if (!key) {
    const src = dirname(code.main);
    const root = dirname(dirname(src));
    const hash = createHash('sha256').update(`${process.version}\0${process.execPath}\0${SERVICE_NODE_FLAGS.join(' ')}\0${code.main}\0`);
    const files = (readdirSync(src, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const f of [...files, ...['package.json', 'package-lock.json'].map((f) => join(root, f)).filter((f) => existsSync(f))]) hash.update(`${f}\0`).update(readFileSync(f));
    key = hash.digest('hex').slice(0, 16);
    codeKeys.set(code.main, key);
  }
  return join(pgTemplates(), 'node-cache', key);
}

/** One service's kept cache. Node keeps a cache per uid: one filled by an account of another uid (made again since) is no use. */
const keptCacheOf = (code: Code, c: AppService, a: Account): string => join(keptCaches(code), `${c}.${a.uid}`);

/**
 * The compile cache a service runs with: the kept one of its code and uid when there is one
 * (root's, which it reads and cannot change: Node uses the entries and writes none), else this
 * run's, its own.
 */
export async function serviceCompileCache(dir: RunDir, code: Code, c: AppService, a: Account): Promise<string> {
  const kept = keptCacheOf(code, c, a);
  if (lstatSync(kept, { throwIfNoEntry: false })?.isDirectory()) return kept;
  await compileCacheDir(dir, c, a);
  return dir.cacheOf(c);
}

/**
 * Fill each service's compile cache before it starts, as its own account and with no
 * configuration: its code (main.ts, which exits at once without one, and its app) compiled and
 * stripped of types, so the service itself never loads the TypeScript stripper: about 12 MB less
 * a service, and half its start. Filled once per version of the code (keptCaches), then kept as
 * root's: a later run uses that one, and starts no Node process and copies nothing for it.
 * Started while the network is built; a cache not filled costs only that time.
 */
export async function warmCompileCaches(dir: RunDir, accounts: Record<AccountRole, Account>, code: Code): Promise<Record<AppService, Promise<void>>> {
  const set = keptCaches(code);
  // Root's and no one else's, on a path no one else can change, as the PostgreSQL template is: a planted cache would be code run as the service.
  await ensureDataDir({ root: pgTemplates() } as DataDir);
  const warm = async (c: AppService) => {
    const a = accounts[c];
    const kept = keptCacheOf(code, c, a);
    if (lstatSync(kept, { throwIfNoEntry: false })?.isDirectory()) return;
    await compileCacheDir(dir, c, a);
    const app = pathToFileURL(join(dirname(code.main), c, 'app.ts')).href;
    const main = pathToFileURL(code.main).href;
    const load = `await import(${JSON.stringify(app)}); await import(${JSON.stringify(main)});`;
    const filled = await priv([...nodeArgv(a, [`NODE_COMPILE_CACHE=${dir.cacheOf(c)}`], '--input-type=module'), '-e', load], { allowFail: true });
    // main.ts run without a configuration exits 2 once loaded: anything else (a module that failed to load) is not kept.
    if (filled.exitCode !== 2) return;
    // Kept: copied as root into a build of this process's, then renamed into place, so one that
    // exists is complete; readable by all (compiled code of this checkout, no secret), written by
    // root alone. The sets of other versions go.
    const build = `${kept}.build.${process.pid}`;
    const keep =
      'mkdir -p -m 0755 "$3" && find "$5" -mindepth 1 -maxdepth 1 ! -name "$6" -exec rm -rf {} + && rm -rf "$2" && cp -R -P -T "$1" "$2" && chown -hR 0:0 "$2" && chmod -R u=rwX,go=rX "$2" && mv -T "$2" "$4"; rm -rf "$2"';
    await priv(['sh', '-c', keep, 'sh', dir.cacheOf(c), build, set, kept, dirname(set), basename(set)], { allowFail: true });
  };
  return Object.fromEntries(APP_SERVICES.map((c) => [c, warm(c)])) as Record<AppService, Promise<void>>;
}

/** nginx's directory, traversable by the accounts nginx's processes run as (the internet host's opens its configuration there). */
function nginxDir(dir: RunDir): string {
  mkdirSync(dir.nginx, { recursive: true });
  chmodSync(dir.nginx, 0o755);
  return dir.nginx;
}

/** Bring one component up (in its namespace, or as a container) and wait until it serves. */
export async function bringUpComponent(ctx: ServiceContext, c: Component): Promise<void> {
  const { t, secrets, dir } = ctx;
  const pgTarget = { ...dataAddress('postgres', ctx.data, t), password: secrets.postgres };
  const redisTarget = { ...dataAddress('redis', ctx.data, t), password: secrets.redis };
  // Ready when it answers as its readiness says (src/net/readiness.ts), within its start deadline.
  const ready = () => platformReadiness(c, t, { data: ctx.data, secrets, as: 'start' })!.waitUntilReady();
  // PostgreSQL: once the superuser logs in and the order service's and the operator's roles exist.
  const pgReady = async () => {
    await ready();
    await provisionOrderRoles(pgTarget, secrets);
  };
  switch (c) {
    case 'postgres': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, pgReady);
      const pg = nodeOf(c, t);
      return launchInNamespace(ctx, c, postgresArgv({ dataDir: ctx.store.postgres, host: pg.ip, port: pg.port!, hbaFile: dir.configFile('pg_hba.conf'), runAs: 'postgres' }), pgReady);
    }
    case 'redis': {
      if (ctx.data === 'containers') return launchContainer(ctx, c, ready);
      const redis = nodeOf(c, t);
      await priv(['install', '-d', '-m', '0700', '-o', 'redis', '-g', 'redis', dir.redisData]);
      const conf = dir.configFile('redis.conf');
      // A restart writes it again: the one before belongs to redis now, which a sudo user may not overwrite.
      await priv(['rm', '-f', conf]);
      await writeRedisConf(conf, { bind: redis.ip, port: redis.port!, password: secrets.redis, dir: dir.redisData }, { runAs: 'redis', prefix: privPrefix });
      return launchInNamespace(ctx, c, redisArgv({ configFile: conf, runAs: 'redis' }), ready);
    }
    case 'product':
      return launchInNamespace(ctx, c, await appArgv(ctx, c, { redisUrl: redisUrl(redisTarget) }), ready);
    case 'order':
      return launchInNamespace(ctx, c, await appArgv(ctx, c, { pgUrl: postgresUrl({ ...pgTarget, user: ORDER_ROLE, password: secrets.orders }), operatorToken: secrets.operator }), ready);
    case 'gateway':
      return launchInNamespace(ctx, c, await appArgv(ctx, c, { productUrl: `http://${addressOf('product', t)}`, orderUrl: `http://${addressOf('order', t)}` }), ready);
    case 'nginx': {
      nginxDir(dir);
      const workers = accountOf(ctx, 'nginx');
      // Errors on its stderr, through the keeper's pipe; the access log written by nginx itself
      // (no hop per request), made ours and 0600 first, and rotated by the keeper (supervise.ts).
      const access = dir.log('nginx-access');
      closeSync(openForAppend(access, 0o600));
      writeNewFile(dir.nginxConf, nginxConf(t, { dir: dir.nginx, accessLog: access, errorLog: 'stderr', user: workers.name, group: groupName(workers.gid) }));
      return launchInNamespace(ctx, c, ['nginx', '-c', dir.nginxConf, '-g', 'daemon off;'], ready, dir.log('nginx-error'));
    }
    case 'internet': {
      const n = nodeOf(c, t);
      const a = nobody();
      // Per-namespace sysctl: lets the unprivileged server bind port 80 there, and only there.
      await priv(inNs(n.name, ['sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']));
      // Its pid and temp files in a directory of its account's; its configuration ours, readable by it.
      const own = join(nginxDir(dir), 'internet');
      await priv(['install', '-d', '-m', '0700', '-o', String(a.uid), '-g', String(a.gid), own]);
      const conf = join(dir.nginx, 'internet.conf');
      writeNewFile(conf, internetHostConf(t, own));
      // Its few lines (errors only) straight to its file: `up --network-only` has no keeper.
      const argv = [...dropTo(a), 'nginx', '-e', 'stderr', '-c', conf];
      return launchInNamespace(ctx, c, argv, ready, dir.log(c), true);
    }
    default:
      return;
  }
}
