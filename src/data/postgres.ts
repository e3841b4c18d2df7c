import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type pg from 'pg';
import { ScramOnlyClient } from '../services/scram-only.ts';
import { postgresBin } from '../host/doctor.ts';
import { DDL, ORDER_TABLES } from '../services/order/schema.ts';
import { run } from '../host/exec.ts';
import { writeNewFile } from '../host/files.ts';
import { alive } from '../host/proc.ts';
import { type DataDir, defaultDataRootPath, ensureDataDir } from '../host/run-dir.ts';
import { postgresReadiness } from '../net/readiness.ts';
import { until } from '../util/wait.ts';
import { localServer, type LocalServer } from './local.ts';
import { generatePassword } from './password.ts';
import { freePort } from './ports.ts';
import { asUser, chownTo, defaultRunAs, makeOwnedDir } from './privilege.ts';

/** Debian keeps initdb/postgres in a versioned directory (15 on bookworm, 16 on Ubuntu 24.04). */
function pgBin(): string {
  const dir = postgresBin();
  if (!dir) throw new Error('PostgreSQL server binaries not found: apt-get install postgresql');
  return dir;
}
export const ORDERS_DATABASE = 'orders';
/** The order service's login: owns its tables, nothing else. */
export const ORDER_ROLE = 'order_service';
/** The operator's login for the seed's `SELECT * FROM orders`: reads that table, nothing else. */
export const READER_ROLE = 'orders_reader';

export interface InitPostgresOptions {
  dataDir: string;
  password: string;
  superuser?: string;
  database?: string;
  /**
   * Unix user the cluster belongs to; defaults to `postgres` when root (postgres refuses to run
   * as root). Pass `runAs: undefined` explicitly to run as the current user.
   */
  runAs?: string;
  /** argv prefix for every command, e.g. ['ip', 'netns', 'exec', ns] or ['sudo', '-n']. */
  prefix?: string[];
  /** Skip fsync while creating the cluster (test clusters, and /run which a reboot empties anyway). */
  noSync?: boolean;
}

/**
 * initdb a cluster with scram-sha-256 everywhere and the superuser password read from a
 * short-lived 0600 file, then create the application database in single-user mode so no
 * listener is ever open before pg_hba is ours.
 */
export async function initPostgres(o: InitPostgresOptions): Promise<void> {
  const { dataDir, password, superuser = 'postgres', database = ORDERS_DATABASE, prefix = [] } = o;
  const runAs = 'runAs' in o ? o.runAs : defaultRunAs('postgres');
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`unsafe database name ${database}`);
  const as = [...prefix, ...asUser(runAs)];
  await makeOwnedDir(dataDir, runAs, prefix);
  const pwDir = await mkdtemp(join(tmpdir(), 'ecomnet-pw-'));
  try {
    const pwFile = join(pwDir, 'pw');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600, flag: 'wx' });
    if (runAs) {
      await chownTo(pwDir, runAs, prefix);
      await chownTo(pwFile, runAs, prefix);
    }
    await run([...as, `${pgBin()}/initdb`, '-D', dataDir, '-U', superuser, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale', ...(o.noSync ? ['--no-sync'] : [])]);
  } finally {
    await run([...prefix, 'rm', '-rf', pwDir], { allowFail: true });
  }
  // Single-user mode reports SQL errors on stdout and still exits 0, so the output is checked.
  const single = await run([...as, `${pgBin()}/postgres`, '--single', ...(o.noSync ? ['-c', 'fsync=off'] : []), '-D', dataDir, 'postgres'], {
    input: `CREATE DATABASE ${database};\n`,
  });
  if (/\bERROR:/.test(single.stdout + single.stderr)) {
    throw new Error(`creating database ${database} failed: ${single.stderr || single.stdout}`);
  }
}

/**
 * Where initialised clusters wait to be copied, each with a spare copy made ahead (and the
 * services' filled compile caches, see warmCompileCaches): beside the data (ECOMNET_DATA_DIR,
 * else /var/lib/ecomnet), root's, holding no secret and no data (a cache, as an image is); the
 * test run's are its own, under its data root, and go with it.
 */
export const pgTemplates = (): string => join(defaultDataRootPath(), 'templates');

/**
 * The template's name: PostgreSQL's major version (its on-disk format) and what initdb is told of
 * encoding and locale, so a cluster is copied only from one initdb would have made the same.
 */
export async function templateName(bin: string = pgBin()): Promise<string> {
  // Debian's layout names it; elsewhere postgres says it ("postgres (PostgreSQL) 15.8").
  const major = /\/postgresql\/(\d+)\/bin$/.exec(bin)?.[1] ?? /\) (\d+)/.exec((await run([`${bin}/postgres`, '--version'])).stdout)?.[1];
  if (!major) throw new Error(`cannot tell PostgreSQL's major version from ${bin}`);
  return `${major}-C-UTF8`;
}

export interface TemplateOptions {
  /** Directory the templates are kept in (root's, 0755: the postgres account reaches a build there). */
  root?: string;
  runAs?: string;
  prefix?: string[];
}

/** A build of the template (or of its spare) in `root`, by the process `pid`. */
const buildName = (name: string, pid: number, spare = false) => `.${name}.build.${pid}${spare ? '.spare' : ''}`;

/**
 * Remove the builds (of the template or its spare) whose maker is dead. Its maker dead, a stale
 * build may still be written by the command it started (initdb, cp: commands of their own, which
 * outlive it): removable once that has ended too.
 */
async function removeStaleBuilds(root: string, name: string, prefix: string[]): Promise<void> {
  const builds = new RegExp(`^\\.${name}\\.build\\.(\\d+)(\\.spare)?$`);
  const stale = (await run([...prefix, 'ls', '-A', root])).stdout.split('\n').filter((e) => {
    const pid = builds.exec(e)?.[1];
    return pid !== undefined && !alive(Number(pid));
  });
  const removeStale = () => run([...prefix, 'rm', '-rf', ...stale.map((e) => join(root, e))], { allowFail: true });
  if (stale.length && !(await until(async () => (await removeStale()).exitCode === 0, { timeoutMs: 30_000, intervalMs: 100 })))
    throw new Error(`a stale PostgreSQL template build in ${root} could not be removed: ${(await removeStale()).stderr.trim()}`);
}

/**
 * The initialised cluster fresh clusters are copied from, made once: initdb and the orders
 * database in a build directory of this process's, then handed to root and renamed into place,
 * so a template that exists is complete and one whose making was cut short is never used (its
 * build directory is removed by the next build, once its maker is dead). The superuser has no
 * password in it at all (initdb's own pg_hba rejects every login): each copy gets its own.
 */
export async function postgresTemplate(o: TemplateOptions = {}): Promise<{ dir: string; built: boolean }> {
  const { root = pgTemplates(), prefix = [] } = o;
  const runAs = 'runAs' in o ? o.runAs : defaultRunAs('postgres');
  const name = await templateName();
  const dir = join(root, name);
  // Made and checked as the data directory is: root's, on a path no one else can change, so no one plants a template.
  await ensureDataDir({ root } as DataDir);
  if ((await run([...prefix, 'test', '-d', dir, '-a', '!', '-L', dir], { allowFail: true })).exitCode === 0) return { dir, built: false };
  await removeStaleBuilds(root, name, prefix);
  const build = join(root, buildName(name, process.pid));
  const as = [...prefix, ...asUser(runAs)];
  try {
    await makeOwnedDir(build, runAs, prefix);
    await run([...as, `${pgBin()}/initdb`, '-D', build, '-U', 'postgres', '--auth=reject', '--encoding=UTF8', '--no-locale']);
    await singleUser(as, build, `CREATE DATABASE ${ORDERS_DATABASE};`);
    await run([...prefix, 'chown', '-R', '0:0', build]);
    // rename(2) onto a directory that another build put there meanwhile fails: then that one is used.
    const placed = await run([...prefix, 'mv', '-T', build, dir], { allowFail: true });
    if (placed.exitCode !== 0 && (await run([...prefix, 'test', '-d', dir], { allowFail: true })).exitCode !== 0) throw new Error(`placing the PostgreSQL template at ${dir} failed: ${placed.stderr}`);
    return { dir, built: placed.exitCode === 0 };
  } finally {
    await run([...prefix, 'rm', '-rf', build], { allowFail: true });
  }
}

/** The template's spare: a whole copy of it made ahead (root's, on disk), so a fresh cluster is a rename, not a copy. */
const spareOf = (template: string) => `${template}.spare`;

/**
 * A spare copy of the template, unless there is one: copied into a build of this process's,
 * flushed to disk, then renamed into place, so a spare that exists is whole and durable (a
 * cluster is made of it in place of a copy).
 */
async function makeSpare(template: string, prefix: string[]): Promise<void> {
  const spare = spareOf(template);
  if ((await run([...prefix, 'test', '-e', spare], { allowFail: true })).exitCode === 0) return;
  const root = dirname(template);
  await removeStaleBuilds(root, basename(template), prefix);
  const build = join(root, buildName(basename(template), process.pid, true));
  try {
    await run([...prefix, 'cp', '-a', '--reflink=auto', '-T', template, build]);
    await run([...prefix, 'sync', '--file-system', build]);
    // rename(2) onto a spare another process made meanwhile fails: that one stays.
    await run([...prefix, 'mv', '-T', build, spare], { allowFail: true });
  } finally {
    await run([...prefix, 'rm', '-rf', build], { allowFail: true });
  }
}

/**
 * A fresh cluster in `dataDir` (which must not exist): the template's spare renamed into place
 * (a copy of the template when there is none), the account's, whose superuser then gets
 * `password`, as a kept cluster does. In place of an initdb each time. It is usable once this
 * resolves; `flushed` resolves once it is all on disk (initdb waited for that itself): a caller
 * that marks the cluster complete does so after `flushed`, and may start the server meanwhile.
 * `nextSpare` is the spare for the next cluster being made, off the server's start: the caller
 * waits for it before it ends (it never fails: without a spare the next cluster is a copy).
 */
export async function clusterFromTemplate(
  o: Omit<InitPostgresOptions, 'database' | 'superuser' | 'noSync'> & { templates?: string },
): Promise<{ built: boolean; fromSpare: boolean; flushed: Promise<void>; nextSpare: Promise<void> }> {
  const { prefix = [] } = o;
  const runAs = 'runAs' in o ? o.runAs : defaultRunAs('postgres');
  const template = await postgresTemplate({ root: o.templates, runAs, prefix });
  // The data directory is beside the templates, on their filesystem: the rename is instant. No spare (the first, or taken meanwhile): a copy.
  const fromSpare = (await run([...prefix, 'mv', '-T', spareOf(template.dir), o.dataDir], { allowFail: true })).exitCode === 0;
  if (!fromSpare) {
    // Across filesystems mv copies: one cut short leaves part of the spare behind.
    await run([...prefix, 'rm', '-rf', o.dataDir]);
    await run([...prefix, 'cp', '-a', '--reflink=auto', '-T', template.dir, o.dataDir]);
  }
  const nextSpare = makeSpare(template.dir, prefix).catch(() => {});
  if (runAs) await run([...prefix, 'chown', '-R', `${runAs}:${runAs}`, o.dataDir]);
  // syncfs, not a walk of the files: a server started meanwhile may remove some of them under a walk.
  const flushed = run([...prefix, 'sync', '--file-system', o.dataDir]).then(() => undefined);
  flushed.catch(() => {});
  await setPostgresPassword({ dataDir: o.dataDir, password: o.password, runAs, prefix });
  return { built: template.built, fromSpare, flushed, nextSpare };
}

/** Remove every template: the next fresh cluster makes its own again. */
export async function removePostgresTemplates(o: { root?: string; prefix?: string[] } = {}): Promise<void> {
  await run([...(o.prefix ?? []), 'rm', '-rf', '--', o.root ?? pgTemplates()]);
}

/** Run SQL in single-user mode (no listener open), which reports SQL errors on stdout and still exits 0. */
async function singleUser(as: string[], dataDir: string, sql: string, what = sql): Promise<void> {
  const single = await run([...as, `${pgBin()}/postgres`, '--single', '-D', dataDir, 'postgres'], { input: `${sql}\n` });
  if (/\b(ERROR|FATAL):/.test(single.stdout + single.stderr)) throw new Error(`${what} in ${dataDir} failed: ${single.stderr || single.stdout}`);
}

/**
 * A kept or copied cluster takes this run's password: the superuser's is changed in single-user mode
 * (no listener open), as its SCRAM verifier read from stdin: the password is in no argv, and in
 * no statement an error would echo.
 */
export async function setPostgresPassword(o: { dataDir: string; password: string; superuser?: string; runAs?: string; prefix?: string[] }): Promise<void> {
  const { superuser = 'postgres', prefix = [] } = o;
  if (!/^[A-Za-z0-9_-]+$/.test(o.password)) throw new Error('a generated password is base64url');
  if (!/^[a-z_][a-z0-9_]*$/.test(superuser)) throw new Error(`unsafe role name ${superuser}`);
  const as = [...prefix, ...asUser('runAs' in o ? o.runAs : defaultRunAs('postgres'))];
  await singleUser(as, o.dataDir, `ALTER ROLE ${superuser} PASSWORD '${scramVerifier(o.password)}';`, `setting the superuser's password`);
}

/** A client pg_hba admits: an IP or CIDR, any role from it; or one role only from that address. */
export type HbaClient = string | { address: string; user: string };

/** pg_hba.conf admitting only `allowedClients`, all by scram-sha-256; local socket likewise. */
export function pgHbaConf(allowedClients: HbaClient[]): string {
  const lines = ['# TYPE  DATABASE  USER  ADDRESS  METHOD', 'local all all scram-sha-256'];
  for (const client of allowedClients) {
    const { address, user } = typeof client === 'string' ? { address: client, user: 'all' } : client;
    if (!/^[a-z_][a-z0-9_]*$/.test(user)) throw new Error(`not a role name: ${user}`);
    lines.push(`host all ${user} ${toCidr(address)} scram-sha-256`);
  }
  return `${lines.join('\n')}\n`;
}

function toCidr(client: string): string {
  const [ip, bits] = client.split('/');
  const family = isIP(ip ?? '');
  const max = family === 6 ? 128 : 32;
  if (!family || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
    throw new Error(`not an IP address or CIDR: ${client}`);
  }
  return `${ip}/${bits ?? max}`;
}

/** Write pg_hba.conf for the server to read (0644: it names networks, not secrets). */
export async function writePgHba(file: string, allowedClients: HbaClient[]): Promise<void> {
  writeNewFile(file, pgHbaConf(allowedClients), 0o644);
}

export interface PostgresArgvOptions {
  dataDir: string;
  host: string;
  port: number;
  hbaFile: string;
  /** Directory for the Unix socket; omitted means no Unix socket at all. */
  socketDir?: string;
  /** Defaults as in initPostgres. */
  runAs?: string;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/** argv running postgres in the foreground (logs on stderr), listening only on host:port. */
export function postgresArgv(o: PostgresArgvOptions): string[] {
  const runAs = 'runAs' in o ? o.runAs : defaultRunAs('postgres');
  const settings: Record<string, string> = {
    listen_addresses: o.host,
    port: String(o.port),
    unix_socket_directories: o.socketDir ?? '',
    hba_file: o.hbaFile,
    password_encryption: 'scram-sha-256',
    // No logical replication here: without workers PostgreSQL starts no launcher process for them.
    max_logical_replication_workers: '0',
    ...o.settings,
  };
  return [...asUser(runAs), `${pgBin()}/postgres`, '-D', o.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

export interface PostgresTarget {
  host: string;
  port: number;
  password: string;
  user?: string;
  database?: string;
}

/** A .pgpass line matching any server for `user` (`:` and `\` escaped): for psql, whose environment /proc shows. */
export function pgpassLine(user: string, password: string): string {
  const field = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  return `*:*:*:${field(user)}:${field(password)}\n`;
}

export function postgresUrl(t: PostgresTarget): string {
  const user = encodeURIComponent(t.user ?? 'postgres');
  const host = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
  return `postgres://${user}:${encodeURIComponent(t.password)}@${host}:${t.port}/${t.database ?? ORDERS_DATABASE}`;
}

/** A throwaway cluster on 127.0.0.1 and a free port, run as `postgres` when we are root. */
export async function startLocalPostgres(): Promise<LocalServer> {
  const host = '127.0.0.1';
  const runAs = defaultRunAs('postgres');
  const base = await mkdtemp(join(tmpdir(), 'ecomnet-pg-'));
  if (runAs) await chownTo(base, runAs);
  const dataDir = join(base, 'data');
  const hbaFile = join(base, 'pg_hba.conf');
  const password = generatePassword();
  const port = await freePort();
  try {
    await initPostgres({ dataDir, password, runAs, noSync: true });
    await writePgHba(hbaFile, [host]);
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
  // Durability is pointless for a test cluster and costs seconds.
  const argv = postgresArgv({ dataDir, host, port, hbaFile, runAs, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  const target = { host, port, password };
  // SIGINT is postgres's "fast" shutdown: it disconnects clients instead of waiting for them.
  return localServer({
    dir: base,
    argv,
    ready: () => postgresReadiness({ ...target, user: 'postgres', database: ORDERS_DATABASE }).waitUntilReady(),
    what: 'postgres',
    url: postgresUrl(target),
    ...target,
    stopSignal: 'SIGINT',
  });
}

/**
 * A password as PostgreSQL stores it under scram-sha-256 (RFC 5802/7677, PostgreSQL's default
 * 4096 iterations): what ALTER ROLE is given in place of the password, as psql's \password does,
 * so the password itself is in no statement, no log line and no pg_stat_activity. The passwords
 * are generated base64url, which SASLprep leaves as they are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${hmac(salted, 'Server Key').toString('base64')}`;
}

/** Every connection of ours that carries a password: see ScramOnlyClient (the order service's pool uses the same). */
export const postgresClient = (config: pg.ClientConfig): pg.Client => new ScramOnlyClient(config);

/**
 * Give the order service and the operator roles of their own, as the superuser `admin`:
 * ORDER_ROLE owns the order tables (created here: it may create nothing), READER_ROLE may only
 * read `orders`; neither may connect to another database or make temporary tables. Idempotent:
 * a second run sets the new passwords. Passwords go as SCRAM verifiers (DDL takes no parameters),
 * so a statement that fails and is logged with its error shows none. Nothing is asked in a way
 * that errors when nothing is there yet: a first `up` logs no ERROR.
 */
export async function provisionOrderRoles(admin: PostgresTarget, passwords: { orders: string; reader: string }): Promise<void> {
  const client = postgresClient({ connectionString: postgresUrl(admin), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const db = client.escapeIdentifier(admin.database ?? ORDERS_DATABASE);
    const role = (name: string, password: string) =>
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN CREATE ROLE ${name}; END IF; END $$;
ALTER ROLE ${name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${client.escapeLiteral(scramVerifier(password))};`;
    // A cluster already provisioned (the supervisor restarting PostgreSQL, data kept across runs)
    // only gets the new passwords: ALTER TABLE takes an exclusive lock, and taking it while the
    // order service retries its inserts deadlocks them. By oid: has_table_privilege given a name
    // that does not exist yet (the reader role, the table) raises an error, which the server logs.
    const settled = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1::text[]) AND tableowner = $2
         AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = $3 AND has_table_privilege(r.oid, to_regclass('public.orders'), 'SELECT'))`,
      [ORDER_TABLES, ORDER_ROLE, READER_ROLE],
    );
    const tables =
      settled.rows[0]?.n === ORDER_TABLES.length
        ? ''
        : `${DDL}
${ORDER_TABLES.map((t) => `ALTER TABLE ${t} OWNER TO ${ORDER_ROLE};`).join('\n')}
GRANT SELECT ON orders TO ${READER_ROLE};`;
    await client.query(`BEGIN;
${role(ORDER_ROLE, passwords.orders)}
${role(READER_ROLE, passwords.reader)}
REVOKE ALL ON DATABASE ${db}, postgres, template1 FROM PUBLIC;
GRANT CONNECT ON DATABASE ${db} TO ${ORDER_ROLE}, ${READER_ROLE};
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ${ORDER_ROLE}, ${READER_ROLE};
${tables}
COMMIT;`);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await client.end().catch(() => {});
  }
}
