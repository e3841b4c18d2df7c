import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, readdirSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';
import { openRegular } from './files.ts';
import { dirname, join, resolve } from 'node:path';
import { commandLineAs, isRoot, priv, requirePrivilege, userNameOf } from './exec.ts';
import { alive, sameProcess } from './proc.ts';

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
  /** The services' logs and pid files; kept after `down` for a post-mortem, until the next `up` (or another user's command, which reclaims the directory). */
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
 * The run directory exists and is this process's (root's; under sudo, the invoking user's), and
 * nobody else can change what root reads there (state, configs): see runDirProblem. One that
 * another user of this host left (root, or another sudo user) is reclaimed when nothing of theirs
 * runs from it: removed and made anew, never adopted with what it holds. Only a directory made
 * here is handed to the invoking user, never one that ECOMNET_RUN_DIR names and that exists.
 */
export async function ensureRunDir(d: RunDir): Promise<void> {
  await requirePrivilege();
  const me = process.getuid!();
  const owners = isRoot ? [0] : [0, me];
  const found = statOrUndefined(d.root);
  if (found && found.uid !== me) await reclaim(d, found.uid, owners);
  if (!found || found.uid !== me) await makeRunDir(d.root, me);
  const dir = statSync(d.root);
  const problem = runDirProblem({ path: d.root, uid: dir.uid, mode: dir.mode }, pathEntries(d.root), owners);
  if (problem) throw new Error(`refusing the run directory ${d.root}: ${problem}; fix or remove it, or choose another ECOMNET_RUN_DIR (default /run/ecomnet)`);
}

/** A new directory at `root` (its parents made root's if missing), then the invoking user's; it fails if something is there already. */
async function makeRunDir(root: string, owner: number): Promise<void> {
  if (isRoot) {
    mkdirSync(dirname(root), { recursive: true, mode: 0o755 });
    mkdirSync(root, { mode: 0o755 });
    return;
  }
  // mkdir without -p: it never takes over a directory made meanwhile; chown -h never follows a link put in its place.
  await priv(['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && mkdir -m 0755 -- "$1" && chown -h -- "$2" "$1"', 'sh', root, String(owner)]);
}

/**
 * Remove a run directory of `uid`'s, so the caller can make its own: only a directory as a run
 * leaves it (no other entries), on a way no one else can change, no lock holder alive, nothing it
 * records still on the host. What it holds is read as a stranger's (no links, no FIFOs, bounded),
 * and decides only whether it is removed.
 */
async function reclaim(d: RunDir, uid: number, owners: number[]): Promise<void> {
  const refuse = (why: string, what = 'fix or remove it, or choose another ECOMNET_RUN_DIR (default /run/ecomnet)') => new Error(`refusing the run directory ${d.root}: ${why}; ${what}`);
  const above = pathProblem(pathEntries(dirname(d.root)), owners);
  if (above) throw refuse(above);
  const owner = userName(uid);
  if (!lstatSync(d.root).isDirectory()) throw refuse(`it is a link to a directory of ${owner}'s, not a run directory`);
  const entries = readdirSync(d.root);
  const strangers = entries.filter((e) => !isRunDirEntry(e));
  const elsewhere = 'choose another ECOMNET_RUN_DIR (default /run/ecomnet)';
  if (strangers.length) throw refuse(`it is not a run directory (it holds ${strangers.slice(0, 5).join(', ')}) and belongs to ${owner}`, elsewhere);
  // An empty directory is a run directory's leftover only where ours are made: any other could be anything of anyone's.
  if (!entries.length && !runDirsOfARun().includes(d.root)) throw refuse(`it is empty and belongs to ${owner}: nothing says it is a run directory`, `remove it, or ${elsewhere}`);
  const stopFirst = `run \`down\` as ${owner} first: ${commandLineAs(uid === 0 ? 'root' : (userNameOf(uid) ?? `#${uid}`), ['down'])}`;
  // Unreadable (a file root keeps 0600, say) is not absent: then nothing says the directory is unused.
  const [lock, state] = [d.lock, d.state].map((file) => {
    const read = readStrangersJson(file);
    if (read === 'absent') return {};
    if (read === 'unreadable' || !isObject(read.value)) throw refuse(`${file} of ${owner}'s cannot be read as ours, so it may be in use`, stopFirst);
    return read.value;
  }) as [Record<string, unknown>, Record<string, unknown>];
  if (Number.isInteger(lock.pid) && (lock.pid as number) > 1 && alive(lock.pid as number)) throw refuse(`${owner}'s pid ${lock.pid} (\`${String(lock.command)}\`) holds it`, stopFirst);
  const live = liveParts(state);
  if (live.length) throw refuse(`a platform ${owner} brought up from it is still on this host (${live.slice(0, 3).join(', ')})`, stopFirst);
  await priv(['rm', '-rf', '--', d.root]);
}

/** Names a run directory holds (RunDir's), and the pid-suffixed files written beside them (`lock.PID`, `state.json.PID.tmp`); anything else is not ours. */
function isRunDirEntry(name: string): boolean {
  const d = runDirAt('/');
  const ours = [d.state, d.lock, d.secrets, d.logs, d.config, d.redisData, d.nginx, d.compileCache, d.stage, d.faults, d.observe, ...d.runFiles].map((p) => p.slice(1));
  const base = /^(.+?)\.\d+(\.tmp)?$/.exec(name)?.[1];
  return ours.includes(name) || (base !== undefined && ours.includes(base));
}

/** What a state file, as read, says is still on this host: namespaces, links, live processes (pid and start time), containers. */
function liveParts(state: Record<string, unknown>): string[] {
  const names = (k: string) => (Array.isArray(state[k]) ? state[k].filter((n): n is string => typeof n === 'string' && /^[\w.-]+$/.test(n)) : []);
  const processes = [...(Array.isArray(state.services) ? state.services : []), state.supervisor].filter(
    (p): p is { pid: number; startTime: number } => isObject(p) && Number.isInteger(p.pid) && (p.pid as number) > 1 && typeof p.startTime === 'number',
  );
  return [
    ...names('namespaces')
      .filter((n) => existsSync(`/run/netns/${n}`))
      .map((n) => `namespace ${n}`),
    ...names('bridges')
      .filter((b) => existsSync(`/sys/class/net/${b}`))
      .map((b) => `link ${b}`),
    ...processes.filter(sameProcess).map((p) => `pid ${p.pid}`),
    ...names('containers').map((c) => `container ${c.slice(0, 12)}`),
  ];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON in a file of someone else's directory, never read through a link, from a FIFO or device (no hang), nor beyond 1 MiB. */
function readStrangersJson(file: string): { value: unknown } | 'absent' | 'unreadable' {
  let fd: number;
  try {
    fd = openRegular(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unreadable';
  }
  try {
    const st = fstatSync(fd);
    if (st.size > 1 << 20) return 'unreadable';
    const buf = Buffer.alloc(st.size);
    return { value: JSON.parse(buf.subarray(0, readSync(fd, buf)).toString('utf8')) };
  } catch {
    return 'unreadable';
  } finally {
    closeSync(fd);
  }
}

const userName = (uid: number): string => (uid === 0 ? 'root' : `${userNameOf(uid) ?? 'the user'} (uid ${uid})`);

const statOrUndefined = (path: string) => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

/** One entry on the way to a run directory, as lstat sees it. */
export interface PathStat {
  path: string;
  uid: number;
  mode: number;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

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
  const above = pathProblem(path, owners);
  if (above) return above;
  if (!owners.includes(dir.uid)) return `${dir.path} belongs to uid ${dir.uid}, who could replace what is under it`;
  if (dir.mode & 0o022) return `it is group- or world-writable (mode ${octal(dir.mode)})`;
  return undefined;
}

/** Why entries on the way to a directory would let someone but `owners` change what is under it, or undefined. */
function pathProblem(path: PathStat[], owners: number[]): string | undefined {
  const shared = path.find((e) => SHARED.includes(e.path));
  if (shared) return `it is under ${shared.path}, where anyone may create files`;
  for (const e of path) if (!owners.includes(e.uid)) return `${e.path} belongs to uid ${e.uid}, who could replace what is under it`;
  const isDir = (mode: number) => (mode & 0o170000) === 0o040000;
  const open = path.find((e) => isDir(e.mode) && e.mode & 0o022 && !(e.mode & 0o1000));
  if (open) return `${open.path} is writable by others (mode ${octal(open.mode)}) without the sticky bit`;
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
