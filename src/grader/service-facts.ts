/**
 * The few facts diagnosis needs that discovery does not read: where nginx's configuration sends
 * /api/, whether PostgreSQL and Redis answer where they were found (login, database, the orders
 * table, the product cache), and where the order and product services are told to connect.
 * Gathered live with connections of at most 2 s that are always closed; never throws: a fact
 * that could not be read carries `error` instead.
 */
import { constants, existsSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { postgresClient } from '../data/postgres.ts';
import { contains, parseCidr, parseIp } from '../topology/ipv4.ts';
import { cache, rules } from './contract.ts';
import { appBridge, inSubnet, namespaceOf } from './find.ts';
import { type Login, pgLogin, redisLogin } from './logins.ts';
import type { HostModel, Process } from './model.ts';

/** Where a service is told to connect, and where that was read (a file or its environment). */
export interface Target {
  host: string;
  port: number;
  source: string;
}

export interface NginxFacts {
  /** The file nginx's master was started with (`-c`), else nginx's default. */
  configPath: string;
  /** The configuration with its includes, for the report. */
  config?: string;
  /** Where /api/products is proxied, as host:port (each server of a named upstream). */
  upstream: string[];
  /** /health is answered by nginx itself (a location that returns), as the seed's config does. */
  health: boolean;
  /** The location /api/ goes through sets X-Real-IP to $remote_addr (its own, or inherited from the server or http level). */
  realIp: boolean;
  error?: string;
}

export interface PostgresFacts {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Something spoke PostgreSQL there; undefined when not probed (see error). */
  reachable?: boolean;
  authOk?: boolean;
  databaseExists?: boolean;
  ordersTable?: boolean;
  /** The orders table's columns, in order. */
  ordersColumns?: string[];
  /** SQLSTATE of the refusal (28P01 bad password, 28000 no pg_hba entry, 3D000 no database). */
  code?: string;
  error?: string;
}

export interface RedisFacts {
  host: string;
  port: number;
  /** Answered a command; undefined when not probed (see error). */
  reachable?: boolean;
  allProducts?: boolean;
  /** all_products' TTL in seconds; -1 when stored without one. */
  allProductsTtl?: number;
  error?: string;
}

/** A service the build started that is not running: where it was started, and the end of what it said. */
export interface DeadService {
  ns: string;
  /** The build's line that started it. */
  line: string;
  /** Its last lines of output (its log named on that line), when there were any. */
  lastWords?: string;
}

export interface ServiceFacts {
  nginx?: NginxFacts;
  postgres?: PostgresFacts;
  redis?: RedisFacts;
  /** Where the order service connects to PostgreSQL, from its script, config file or environment. */
  orderDb?: Target;
  /** Where the product service connects to Redis, likewise. */
  productRedis?: Target;
  /** Where the gateway sends products and orders: every http URL its script or config names. */
  gatewayTargets?: Target[];
  /** Services the build started that are not running. */
  dead?: DeadService[];
  /** The line the build started each service with, by namespace: the fix a learner retypes. */
  starts?: Record<string, string>;
}

/** How to log in: the logins the grader settled on. */
export interface Logins {
  pg: Login;
  redis: Login;
}

const TIMEOUT_MS = 2000;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
// Unref'd: a close that hangs is abandoned, not waited for by the process.
const within = <T>(p: Promise<T>, ms = TIMEOUT_MS) => Promise.race([p, sleep(ms, undefined, { ref: false })]);

// ---- nginx ------------------------------------------------------------------------------------

interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** nginx.conf as directives: words, quoted strings, `;` and `{ }`; comments dropped. */
export function parseNginx(text: string): Directive[] {
  const tokens: { t: string; word: boolean }[] = [];
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (/\s/.test(ch)) i++;
    else if (ch === '#') while (i < text.length && text[i] !== '\n') i++;
    else if (ch === ';' || ch === '{' || ch === '}') {
      tokens.push({ t: ch, word: false });
      i++;
    } else if (ch === '"' || ch === "'") {
      let s = '';
      for (i++; i < text.length && text[i] !== ch; i++) s += text[i] === '\\' && i + 1 < text.length ? text[++i] : text[i];
      tokens.push({ t: s, word: true });
      i++;
    } else {
      let s = '';
      while (i < text.length && !/[\s;{}]/.test(text[i]!)) s += text[i++];
      tokens.push({ t: s, word: true });
    }
  }
  let pos = 0;
  const block = (): Directive[] => {
    const out: Directive[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (!tok.word && tok.t === '}') return out;
      if (!tok.word) continue;
      const d: Directive = { name: tok.t, args: [] };
      while (pos < tokens.length && tokens[pos]!.word) d.args.push(tokens[pos++]!.t);
      const end = tokens[pos++];
      if (end?.t === '{') d.block = block();
      out.push(d);
    }
    return out;
  };
  return block();
}

const all = (ds: Directive[], name: string): Directive[] => ds.flatMap((d) => [...(d.name === name ? [d] : []), ...all(d.block ?? [], name)]);

interface Location {
  modifier: string;
  path: string;
  body: Directive[];
}

/** The location nginx picks for `uri`: exact, then a matching regex unless the longest prefix is `^~`, then the longest prefix. */
function locationFor(locations: Location[], uri: string): Location | undefined {
  const exact = locations.find((l) => l.modifier === '=' && l.path === uri);
  if (exact) return exact;
  const prefix = locations.filter((l) => (l.modifier === '' || l.modifier === '^~') && uri.startsWith(l.path)).sort((a, b) => b.path.length - a.path.length)[0];
  if (prefix?.modifier === '^~') return prefix;
  const regex = locations.find((l) => {
    if (l.modifier !== '~' && l.modifier !== '~*') return false;
    try {
      return new RegExp(l.path, l.modifier === '~*' ? 'i' : '').test(uri);
    } catch {
      return false;
    }
  });
  return regex ?? prefix;
}

/** host:port for each place a proxy_pass URL leads: a named upstream's servers, else the URL's own host. */
function proxyTargets(url: string, upstreams: Map<string, string[]>): string[] {
  const m = /^(https?):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?/.exec(url);
  if (!m) return [url];
  const named = upstreams.get(m[2]!);
  if (named && !m[3]) return named;
  return [`${m[2]}:${m[3] ?? (m[1] === 'https' ? 443 : 80)}`];
}

/** The proxy_set_header directives in effect in a block: its own, else those it inherits (nginx inherits only when a level sets none). */
function headersIn(levels: Directive[][]): Directive[] {
  for (const body of levels) {
    const own = body.filter((d) => d.name === 'proxy_set_header');
    if (own.length) return own;
  }
  return [];
}

/** What the seed's two requests meet in this configuration: where /api/products goes, whether it carries X-Real-IP, and whether /health is nginx's own. */
export function nginxRoutes(ds: Directive[]): { upstream: string[]; health: boolean; realIp: boolean } {
  const upstreams = new Map(
    all(ds, 'upstream').map((u) => [
      u.args[0] ?? '',
      (u.block ?? []).filter((d) => d.name === 'server' && d.args[0] && !d.args[0].startsWith('unix:')).map((d) => (/:\d+$/.test(d.args[0]!) ? d.args[0]! : `${d.args[0]}:80`)),
    ]),
  );
  const servers = all(ds, 'server').filter((s) => s.block);
  // The server on port 80 (a server without `listen` takes 80 when nginx runs as root).
  const on80 = servers.filter((s) => {
    const listens = (s.block ?? []).filter((d) => d.name === 'listen').map((d) => d.args[0] ?? '');
    return !listens.length || listens.some((l) => /(^|:)80$/.test(l));
  });
  const chosen = on80.length ? on80 : servers;
  const locations = chosen.flatMap((s) =>
    all(s.block ?? [], 'location').map((l) => ({
      ...(l.args.length > 1 ? { modifier: l.args[0]!, path: l.args[1]! } : { modifier: '', path: l.args[0] ?? '' }),
      body: l.block ?? [],
      server: s.block ?? [],
    })),
  );
  const proxyOf = (l: Location | undefined) => l?.body.find((d) => d.name === 'proxy_pass')?.args[0];
  const apiLocation = locationFor(locations, '/api/products') as (Location & { server: Directive[] }) | undefined;
  const api = proxyOf(apiLocation);
  const health = locationFor(locations, '/health');
  const httpLevel = ds.find((d) => d.name === 'http')?.block ?? [];
  const headers = apiLocation ? headersIn([apiLocation.body, apiLocation.server, httpLevel]) : [];
  const realIp = headers.some((d) => d.args[0]?.toLowerCase() === 'x-real-ip' && d.args[1] === '$remote_addr');
  return { upstream: api ? proxyTargets(api, upstreams) : [], health: !!health && !proxyOf(health) && health.body.some((d) => d.name === 'return'), realIp };
}

/** The `-c` file of nginx's master (its argv is rewritten to one string: `nginx: master process nginx -c FILE`). */
export function nginxConfigPath(argv: string[]): string {
  const words = argv.join(' ').split(/\s+/);
  const flag = (f: string) => {
    const i = words.findIndex((w) => w.startsWith(f));
    return i < 0 ? undefined : words[i] === f ? words[i + 1] : words[i]!.slice(f.length);
  };
  const conf = flag('-c') ?? '/etc/nginx/nginx.conf';
  // A relative -c is relative to the prefix; Debian builds nginx with /usr/share/nginx.
  return isAbsolute(conf) ? conf : join(flag('-p') ?? '/usr/share/nginx', conf);
}

/** The most verify reads of any file a process or the build names: a configuration or script is far smaller. */
export const MAX_FILE_READ = 256 * 1024;

/** open(2)'s O_PATH on Linux (x86, arm, riscv), which fs.constants lacks: a handle that opens nothing (no device's open runs). */
const O_PATH = 0o10000000;

/**
 * Up to MAX_FILE_READ bytes of a regular file (its end with `tail`), else an error. Verify runs
 * as root and the path is a stranger's: a FIFO would block the open for ever, /dev/zero never
 * ends, a device's open can act. So the path is taken with O_PATH, the handle's own fstat
 * decides (no swap of the path in between counts), and only then is it opened for reading,
 * through the same handle, non-blocking.
 */
export async function readRegular(path: string, o: { tail?: boolean } = {}): Promise<string> {
  const handle = await open(path, O_PATH);
  let file: FileHandle | undefined;
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    file = await open(`/proc/self/fd/${handle.fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const buf = Buffer.alloc(MAX_FILE_READ);
    let at = o.tail ? Math.max(0, st.size - MAX_FILE_READ) : 0;
    let filled = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, filled, buf.length - filled, at);
      if (bytesRead === 0) break;
      filled += bytesRead;
      at += bytesRead;
      if (filled === buf.length) break;
    }
    return buf.subarray(0, filled).toString('utf8');
  } finally {
    await file?.close();
    await handle.close();
  }
}

/** A file as the process sees it: through /proc/PID/root, so a chroot or container's own mount namespace reads right. */
const readAs = (pid: number, path: string) => readRegular(`/proc/${pid}/root${path}`).catch(() => readRegular(path));

const MAX_FILES = 40;

/** The configuration with its includes spliced in (globs in the last path part), and the text read. */
async function loadNginx(pid: number, path: string): Promise<{ directives: Directive[]; text: string }> {
  const texts: string[] = [];
  const load = async (file: string, depth: number): Promise<Directive[]> => {
    if (texts.length >= MAX_FILES) return [];
    const text = await readAs(pid, file);
    texts.push(`# ${file}\n${text}`);
    const splice = async (ds: Directive[]): Promise<Directive[]> => {
      const out: Directive[] = [];
      for (const d of ds) {
        if (d.name === 'include' && d.args[0] && depth < 4) {
          for (const f of await expand(pid, isAbsolute(d.args[0]) ? d.args[0] : join(dirname(path), d.args[0]))) out.push(...(await load(f, depth + 1).catch(() => [])));
        } else out.push(d.block ? { ...d, block: await splice(d.block) } : d);
      }
      return out;
    };
    return splice(parseNginx(text));
  };
  const directives = await load(path, 0);
  return { directives, text: texts.join('\n') };
}

async function expand(pid: number, pattern: string): Promise<string[]> {
  const base = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (!base.includes('*')) return [pattern];
  const dir = dirname(pattern);
  const names = await readdir(`/proc/${pid}/root${dir}`).catch(() => readdir(dir).catch(() => [] as string[]));
  const re = new RegExp(`^${base.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => join(dir, n));
}

async function nginxFacts(model: HostModel): Promise<NginxFacts | undefined> {
  const procs = namespaceOf(model, 'nginx-lb')?.processes.filter((p) => p.comm === 'nginx') ?? [];
  const master = procs.find((p) => p.argv.join(' ').includes('master process')) ?? procs[0];
  if (!master) return undefined;
  const configPath = nginxConfigPath(master.argv);
  try {
    const { directives, text } = await loadNginx(master.pid, configPath);
    return { configPath, config: text, ...nginxRoutes(directives) };
  } catch (e) {
    return { configPath, upstream: [], health: false, realIp: false, error: message(e) };
  }
}

// ---- where the services connect -----------------------------------------------------------------

const KINDS = {
  postgres: {
    port: 5432,
    url: /postgres(?:ql)?:\/\/(?:[^@\s'"/]*@)?([^:/\s'"?]+)(?::(\d+))?/,
    call: /(?:psycopg2?\.connect|connect|Pool|Client)\s*\(([^)]*)\)/g,
    env: { url: ['DATABASE_URL', 'POSTGRES_URL', 'PG_URL'], host: 'PGHOST', port: 'PGPORT' },
  },
  redis: {
    port: 6379,
    url: /rediss?:\/\/(?:[^@\s'"/]*@)?([^:/\s'"?]+)(?::(\d+))?/,
    call: /(?:StrictRedis|Redis|createClient)\s*\(([^)]*)\)/g,
    env: { url: ['REDIS_URL'], host: 'REDIS_HOST', port: 'REDIS_PORT' },
  },
} as const;
type Kind = keyof typeof KINDS;

/** The first place a script or config names for `kind`: a URL, or a client call's host= (not app.run's). */
export function targetIn(text: string, kind: Kind): { host: string; port: number } | undefined {
  const k = KINDS[kind];
  const url = k.url.exec(text);
  if (url) return { host: url[1]!, port: Number(url[2] ?? k.port) };
  for (const m of text.matchAll(k.call)) {
    const host = /host\s*[=:]\s*['"]([^'"]+)['"]/.exec(m[1]!)?.[1];
    if (host) return { host, port: Number(/port\s*[=:]\s*['"]?(\d+)/.exec(m[1]!)?.[1] ?? k.port) };
  }
  return undefined;
}

const SCRIPT = /\.(py|js|mjs|cjs|ts|json|env|conf|ya?ml|toml|ini)$/;

async function targetOfProcess(p: Process, kind: Kind): Promise<Target | undefined> {
  const k = KINDS[kind];
  const env = new Map((await readFile(`/proc/${p.pid}/environ`, 'utf8').catch(() => '')).split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  for (const name of k.env.url) {
    const found = env.get(name) && targetIn(env.get(name)!, kind);
    if (found) return { ...found, source: `${name} in its environment` };
  }
  const host = env.get(k.env.host);
  if (host) return { host, port: Number(env.get(k.env.port) ?? k.port), source: `${k.env.host} in its environment` };
  for (const arg of p.argv.slice(1).filter((a) => SCRIPT.test(a))) {
    // A relative path is the process's own: read through its cwd (a symlink /proc resolves for us).
    const text = await (isAbsolute(arg) ? readAs(p.pid, arg) : readRegular(`/proc/${p.pid}/cwd/${arg}`)).catch(() => undefined);
    const found = text && targetIn(text, kind);
    if (found) return { ...found, source: arg };
  }
  return undefined;
}

/**
 * The script's own variables, as its simple assignments set them (`DIR=/tmp/lab`,
 * `DIR="${DIR:-/run/lab}"`: the default), so the paths on its lines can be read as it meant them.
 */
export function scriptVars(build: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const m of build.matchAll(/^\s*(?:export\s+)?([A-Za-z_]\w*)=(.*)$/gm)) {
    const raw = m[2]!
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .replace(/^'(.*)'$/, '$1');
    const value = raw.replace(new RegExp(`^\\$\\{${m[1]}:-(.*)\\}$`), '$1');
    if (!/[`$(]/.test(value.replace(/\$\{?\w+\}?/g, ''))) vars.set(m[1]!, fillIn(value, vars));
  }
  return vars;
}

const fillIn = (text: string, vars: Map<string, string>) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? all);

/**
 * The build script's line that starts something in `ns` (`ip netns exec NS CMD...`), ignoring
 * network setup, with the script's variables filled in. Of several (branches of an `if`), the one
 * whose files are there: what ran left them.
 */
export function startLine(build: string, ns: string): string | undefined {
  const re = new RegExp(
    `^\\s*(?:sudo\\s+)?ip\\s+netns\\s+exec\\s+${ns.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(?!ip\\b|sysctl\\b|iptables\\b|ping\\b|curl\\b|nc\\b|ss\\b|cat\\b|bash -c 'cat)(.+)$`,
    'gm',
  );
  const vars = scriptVars(build);
  const lines = [...build.matchAll(re)].map((m) => fillIn(m[0].trim(), vars));
  // The script a branch runs is its own; a log may be shared by every branch.
  const ran = (l: string, what: 'scripts' | 'log') => {
    const f = filesOf(l);
    return (what === 'scripts' ? f.scripts : f.log ? [f.log] : []).some((x) => existsSync(x));
  };
  return lines.filter((l) => ran(l, 'scripts')).at(-1) ?? lines.filter((l) => ran(l, 'log')).at(-1) ?? lines.at(-1);
}

/** Files a start line names (the script it runs, a config), and the file its output goes to. */
function filesOf(line: string): { scripts: string[]; log?: string } {
  const words = line.split(/\s+/).map((w) => w.replace(/^["']|["']$/g, ''));
  const log = /(?:^|\s)(?:&?>{1,2}|1>>?)\s*["']?([^\s"'&;]+)/.exec(line)?.[1];
  return { scripts: words.filter((w) => isAbsolute(w) && SCRIPT.test(w) && w !== log), ...(log && isAbsolute(log) ? { log } : {}) };
}

async function targetOf(model: HostModel, ns: string, kind: Kind, build?: string): Promise<Target | undefined> {
  for (const p of namespaceOf(model, ns)?.processes ?? []) {
    const t = await targetOfProcess(p, kind).catch(() => undefined);
    if (t) return t;
  }
  // Not running: what the build started there says where it was told to connect.
  const line = build ? startLine(build, ns) : undefined;
  for (const file of line ? filesOf(line).scripts : []) {
    const text = await readRegular(file).catch(() => undefined);
    const found = text && targetIn(text, kind);
    if (found) return { ...found, source: file };
  }
  return undefined;
}

/** Every http URL with an address in a text: where a gateway sends requests. */
export function httpTargets(text: string): { host: string; port: number }[] {
  return [...text.matchAll(/https?:\/\/([\d.]+)(?::(\d+))?/g)].map((m) => ({ host: m[1]!, port: Number(m[2] ?? 80) }));
}

/** Where the gateway sends its requests: the URLs its running process's script or config (or the one the build started) names. */
async function gatewayTargets(model: HostModel, build?: string): Promise<Target[] | undefined> {
  const files = new Map<string, number | undefined>();
  for (const p of namespaceOf(model, 'api-gateway')?.processes ?? []) for (const arg of p.argv.slice(1).filter((a) => SCRIPT.test(a))) files.set(arg, p.pid);
  const line = build ? startLine(build, 'api-gateway') : undefined;
  if (!files.size) for (const f of line ? filesOf(line).scripts : []) files.set(f, undefined);
  const out: Target[] = [];
  for (const [file, pid] of files) {
    const text = await (pid && !isAbsolute(file) ? readRegular(`/proc/${pid}/cwd/${file}`) : pid ? readAs(pid, file) : readRegular(file)).catch(() => undefined);
    for (const t of text ? httpTargets(text) : []) out.push({ ...t, source: file });
  }
  return out.length ? out : undefined;
}

/** The services the build started that run no process now, each with the end of what it said. */
async function deadServices(model: HostModel, build: string): Promise<DeadService[]> {
  const out: DeadService[] = [];
  for (const ns of ['nginx-lb', 'api-gateway', 'product-service', 'order-service', 'redis-cache', 'postgres-db']) {
    const line = startLine(build, ns);
    if (!line || namespaceOf(model, ns)?.processes.length) continue;
    const { log } = filesOf(line);
    const text = log ? await readRegular(log, { tail: true }).catch(() => '') : '';
    // Its last three lines that say something (a traceback's ^^^ markers say nothing), each kept short.
    const last = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /[A-Za-z0-9]/.test(l))
      .slice(-3)
      .map((l) => (l.length > 240 ? `${l.slice(0, 240)}…` : l))
      .join(' / ');
    out.push({ ns, line, ...(last ? { lastWords: last } : {}) });
  }
  return out;
}

// ---- PostgreSQL and Redis ---------------------------------------------------------------------------

/**
 * Why the grader will not connect to `ip`, or undefined when it may: loopback, an address of the
 * app bridge, or an address of 10.0.0.0/16 that the host routes onto the app bridge. Anything
 * else could leave the host, and the grader's traffic never does.
 */
export function notProbed(model: HostModel, ip: string): string | undefined {
  const n = parseIp(ip);
  if (n === undefined) return `${ip} is not an IPv4 address`;
  if (ip.startsWith('127.')) return undefined;
  const br = appBridge(model);
  if (!br) return `no app bridge leads to ${ip}`;
  if (br.addresses.some((a) => a.ip === ip)) return undefined;
  if (!inSubnet(ip)) return `${ip} is outside ${rules.masquerade.source}`;
  const best = model.host.routes
    .map((r) => ({ r, net: parseCidr(r.dst === 'default' ? '0.0.0.0/0' : r.dst) }))
    .filter((x) => x.net && contains(x.net, n))
    .sort((a, b) => b.net!.prefix - a.net!.prefix)[0]?.r;
  return best?.dev === br.name && !best.via ? undefined : `the host routes ${ip} ${best ? `via ${best.via ?? best.dev}` : 'nowhere'}, not onto ${br.name}`;
}

/** SQLSTATEs that mean the server answered but refused the login. */
const AUTH_FAILED = new Set(['28P01', '28000']);

async function postgresFacts(model: HostModel, l: Login): Promise<PostgresFacts> {
  const base = { host: l.host, port: l.port, user: l.user, database: l.database ?? 'orders' };
  const why = notProbed(model, l.host);
  if (why) return { ...base, error: `not probed: ${why}` };
  const client = postgresClient({ ...base, password: l.password, connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS, statement_timeout: TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query<{ t: string | null }>("SELECT to_regclass('public.orders')::text AS t");
    const exists = r.rows[0]?.t != null;
    const columns = exists
      ? (await client.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders' ORDER BY ordinal_position")).rows.map(
          (x) => x.c,
        )
      : undefined;
    return { ...base, reachable: true, authOk: true, databaseExists: true, ordersTable: exists, ...(columns ? { ordersColumns: columns } : {}) };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // A SQLSTATE is PostgreSQL speaking; anything else (ECONNREFUSED, a timeout) is no answer.
    if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return { ...base, reachable: false, error: message(e) };
    const login = AUTH_FAILED.has(code) ? { authOk: false } : code === '3D000' ? { authOk: true, databaseExists: false } : {};
    return { ...base, reachable: true, ...login, code, error: message(e) };
  } finally {
    await within(client.end().catch(() => {}));
  }
}

async function redisFacts(model: HostModel, l: Login): Promise<RedisFacts> {
  const base = { host: l.host, port: l.port };
  const why = notProbed(model, l.host);
  if (why) return { ...base, error: `not probed: ${why}` };
  const r = new Redis({
    host: l.host,
    port: l.port,
    ...(l.password !== undefined ? { username: l.user, password: l.password } : {}),
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    commandTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // No INFO before the first command: a protected-mode refusal then reaches us as that command's error.
    enableReadyCheck: false,
    // Its default (2 s) keeps a timer alive after closing a socket that never opened.
    disconnectTimeout: 200,
  });
  // The event carries the cause (ECONNREFUSED); connect() itself only rejects with "Connection is closed".
  let cause: unknown;
  r.on('error', (e) => {
    cause ??= e;
  });
  try {
    await r.connect();
    const exists = (await r.exists(cache.allKey)) === 1;
    return { ...base, reachable: true, allProducts: exists, ...(exists ? { allProductsTtl: await r.ttl(cache.allKey) } : {}) };
  } catch (e) {
    return { ...base, reachable: false, error: message(cause ?? e) };
  } finally {
    r.disconnect();
  }
}

const settled = async <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

/** The live facts for diagnose(): each read on its own, in parallel; a failure leaves its fact out or says why. */
/** The live facts for diagnose(): each read on its own, in parallel; a failure leaves its fact out or says why. `build`: the build script's text, when the grader ran it. */
export async function gatherServiceFacts(model: HostModel, logins: Logins = { pg: pgLogin(model), redis: redisLogin(model) }, build?: string): Promise<ServiceFacts> {
  const { pg: pgL, redis: redisL } = logins;
  const [nginx, postgres, redis, orderDb, productRedis, gateway, dead] = await Promise.all([
    settled(nginxFacts(model)),
    settled(postgresFacts(model, pgL)),
    settled(redisFacts(model, redisL)),
    settled(targetOf(model, 'order-service', 'postgres', build)),
    settled(targetOf(model, 'product-service', 'redis', build)),
    settled(gatewayTargets(model, build)),
    build ? settled(deadServices(model, build)) : undefined,
  ]);
  return {
    ...(nginx ? { nginx } : {}),
    ...(postgres ? { postgres } : {}),
    ...(redis ? { redis } : {}),
    ...(orderDb ? { orderDb } : {}),
    ...(productRedis ? { productRedis } : {}),
    ...(gateway ? { gatewayTargets: gateway } : {}),
    ...(dead?.length ? { dead } : {}),
    ...(build
      ? {
          starts: Object.fromEntries(
            ['nginx-lb', 'api-gateway', 'product-service', 'order-service'].flatMap((ns) => {
              const l = startLine(build, ns);
              return l ? [[ns, l]] : [];
            }),
          ),
        }
      : {}),
  };
}
