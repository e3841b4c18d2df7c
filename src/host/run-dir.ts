import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isRoot, priv } from './exec.ts';

/**
 * Every path under a platform's run directory, named here and nowhere else. /run by default,
 * so a reboot forgets it with the namespaces; a second platform (tests, bench) has its own.
 */
export interface RunDir {
  root: string;
  /** Everything we changed on the host, written before each change. */
  state: string;
  /** One platform per run directory at a time. */
  lock: string;
  /** The run's passwords. */
  secrets: string;
  /** The services' logs and pid files; kept after `down` for a post-mortem, until the next `up`. */
  logs: string;
  config: string;
  redisData: string;
  /** nginx's pid, temp files and generated configuration. */
  nginx: string;
  nginxConf: string;
  /** The faults `ecomnet fault` injected, written before each is applied, so `fault clear` and `down` remove exactly them. */
  faults: string;
  /** What `ecomnet observe` changed in each namespace (conntrack accounting, its chain), written before it changes it, so the next observer undoes a crashed one's. */
  observe: string;
  /** The topology the supervisor restarts services of, as validated JSON data. */
  topology: string;
  /** The supervisor's account of each service: restarts, backoff, given up (kept with the logs for a post-mortem). */
  supervision: string;
  /**
   * Node's compile caches, one per service and per run, each owned by its service's account:
   * what one account wrote is never loaded by another, nor by a later run.
   */
  compileCache: string;
  /** A root-owned, world-readable copy of what the services run, when their accounts cannot read the checkout. */
  stage: string;
  /** What `down` removes besides logs: data, configs, secrets, compile caches, the staged code. */
  runFiles: string[];
  log(name: string): string;
  /** A named pipe a server opens as its log (nginx's access log), drained by a log keeper into log(name). */
  logFifo(name: string): string;
  pidFile(name: string): string;
  configFile(name: string): string;
  cacheOf(service: string): string;
}

/** ECOMNET_RUN_DIR, read when asked (not when a module loads), else /run/ecomnet. */
export const defaultRunDirPath = (): string => process.env.ECOMNET_RUN_DIR ?? '/run/ecomnet';

/** The suites' own platforms (alternate topologies, crash and containers tests), each in a run directory of its own. */
export const testRunDirs = {
  lifecycle: '/run/ecomnet-lifecycle-test',
  foreground: '/run/ecomnet-foreground-test',
  containers: '/run/ecomnet-containers-test',
} as const;

/** Every run directory a test run may start a platform in: whose secrets its reports must never show. */
export const runDirsOfARun = (): string[] => [defaultRunDirPath(), ...Object.values(testRunDirs)];

export function runDirAt(root: string = defaultRunDirPath()): RunDir {
  const logs = join(root, 'logs');
  const config = join(root, 'config');
  const at = {
    root,
    state: join(root, 'state.json'),
    lock: join(root, 'lock'),
    secrets: join(root, 'secrets.json'),
    logs,
    config,
    redisData: join(root, 'redis'),
    nginx: join(root, 'nginx'),
    nginxConf: join(root, 'nginx', 'nginx.conf'),
    compileCache: join(root, 'node-cache'),
    stage: join(root, 'app'),
    faults: join(root, 'faults.json'),
    observe: join(root, 'observe.json'),
    topology: join(config, 'topology.json'),
    supervision: join(logs, 'supervision.json'),
  };
  return {
    ...at,
    // join(root, 'postgres'): where versions before the data directory kept the cluster.
    runFiles: [at.redisData, at.config, at.nginx, at.secrets, at.compileCache, at.stage, at.faults, join(root, 'postgres')],
    log: (name) => join(logs, `${name}.log`),
    logFifo: (name) => join(logs, `${name}.fifo`),
    pidFile: (name) => join(logs, `${name}.pid`),
    configFile: (name) => join(config, name),
    cacheOf: (service) => join(at.compileCache, service),
  };
}

/**
 * Where a platform's data lives across `down` and `up`, as compose keeps its volumes: on disk,
 * not in the run directory (/run is a tmpfs that a flood of orders would fill, and a reboot
 * empties). One directory per topology tag, root's; `down --volumes` removes it (and, in
 * containers mode, the named volume the cluster is in, labelled with the tag).
 */
export interface DataDir {
  root: string;
  /** The PostgreSQL cluster, the postgres account's (0700). */
  postgres: string;
  /** Written once the cluster is complete (initdb and the orders database): without it the cluster is made again. */
  postgresReady: string;
  /** Containers mode: the password of the cluster in our volume, kept with it (root's, 0600), since the image sets it only once. */
  postgresPassword: string;
}

/** ECOMNET_DATA_DIR, read when asked, else /var/lib/ecomnet (the FHS place for a program's state). */
export const defaultDataRootPath = (): string => process.env.ECOMNET_DATA_DIR ?? '/var/lib/ecomnet';

/**
 * `npm test`'s and `npm run bench`'s own data root (both hold the platform lock, so never at
 * once): their platforms start empty and are removed with their data, and a user's (under
 * /var/lib/ecomnet/TAG, TAG always holding "ecomnet") is never this one.
 */
export const TEST_DATA_ROOT = '/var/lib/ecomnet/npm-test';

export function dataDirAt(tag: string, base: string = defaultDataRootPath()): DataDir {
  const root = join(resolve(base), tag);
  return { root, postgres: join(root, 'postgres'), postgresReady: join(root, 'postgres.ready'), postgresPassword: join(root, 'postgres.password') };
}

/** Create the data directory (root's, 0755, so the postgres account can reach its cluster) and refuse one others could change. */
export async function ensureDataDir(d: DataDir): Promise<void> {
  await priv(['install', '-d', '-m', '0755', d.root]);
  const dir = statSync(d.root);
  const problem = runDirProblem({ path: d.root, uid: dir.uid, mode: dir.mode }, pathEntries(d.root), [0]);
  if (problem) throw new Error(`refusing the data directory ${d.root}: ${problem}; fix or remove it, or choose another ECOMNET_DATA_DIR (default /var/lib/ecomnet)`);
}

/**
 * The run directory exists, this process may write it (as root, or owned by the sudo user), and
 * nobody else can change what root reads there (state, configs): see runDirProblem.
 */
export async function ensureRunDir(d: RunDir): Promise<void> {
  if (!(existsSync(d.root) && (isRoot || writable(d.root)))) {
    if (isRoot) mkdirSync(d.root, { recursive: true, mode: 0o755 });
    else await priv(['install', '-d', '-m', '0755', '-o', String(process.getuid!()), d.root]);
  }
  const dir = statSync(d.root);
  const problem = runDirProblem({ path: d.root, uid: dir.uid, mode: dir.mode }, pathEntries(d.root), isRoot ? [0] : [0, process.getuid!()]);
  if (problem) throw new Error(`refusing the run directory ${d.root}: ${problem}; fix or remove it, or choose another ECOMNET_RUN_DIR (default /run/ecomnet)`);
}

/** One entry on the way to a run directory, as lstat sees it. */
export interface PathStat {
  path: string;
  uid: number;
  mode: number;
}

/** Where anyone may create files: a run directory there could be made, or prepared, by anyone. */
const SHARED = ['/tmp', '/var/tmp', '/dev/shm'];

/**
 * Why `dir` (stat'ed) may not hold what root acts on, or undefined. `path` is every entry met on
 * the way to it (directories and links, those of the links' targets too): each must belong to
 * one of `owners` (root; under sudo, the invoking user too), and a directory writable by others
 * must be sticky, which stops them renaming entries that are not theirs. The run directory
 * itself is writable by its owner only.
 */
export function runDirProblem(dir: PathStat, path: PathStat[], owners: number[]): string | undefined {
  const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');
  const shared = path.find((e) => SHARED.includes(e.path));
  if (shared) return `it is under ${shared.path}, where anyone may create files`;
  for (const e of [...path, dir]) if (!owners.includes(e.uid)) return `${e.path} belongs to uid ${e.uid}, who could replace what is under it`;
  const isDir = (mode: number) => (mode & 0o170000) === 0o040000;
  const open = path.find((e) => isDir(e.mode) && e.mode & 0o022 && !(e.mode & 0o1000));
  if (open) return `${open.path} is writable by others (mode ${octal(open.mode)}) without the sticky bit`;
  if (dir.mode & 0o022) return `it is group- or world-writable (mode ${octal(dir.mode)})`;
  return undefined;
}

/** Every entry from / to `target`, lstat'ed; a symbolic link is followed, and its target's way listed too. */
function pathEntries(target: string): PathStat[] {
  const out: PathStat[] = [];
  let at = '/';
  for (const part of ['', ...resolve(target).split('/').filter(Boolean)]) {
    at = join(at, part);
    const st = lstatSync(at);
    out.push({ path: at, uid: st.uid, mode: st.mode });
    if (!st.isSymbolicLink()) continue;
    // realpath first: it fails on a loop, so the recursion ends.
    const real = realpathSync(at);
    out.push(...pathEntries(resolve(dirname(at), readlinkSync(at))));
    at = real;
  }
  return out;
}

function writable(dir: string): boolean {
  try {
    const probe = join(dir, `.probe-${process.pid}`);
    writeFileSync(probe, '', { flag: 'wx' });
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}
