/**
 * What "ready" and "healthy" mean, once: a readiness value per server, as testcontainers' wait
 * strategies are. HTTP is a GET of a path answered 200 (nginx, the three services, the simulated
 * internet host); Redis is a PING answered +PONG, after AUTH when there is a password; PostgreSQL
 * is a `SELECT 1` after a SCRAM-only login. Each value carries its probe's timeout and the
 * deadline of a start; start, restart, the supervisor (through start), `status` and `observe` all
 * ask it. Neutral: neither ecomnet's runtime nor the grader, so both may use it.
 */
import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { ScramOnlyClient } from '../services/scram-only.ts';
import type { Component, NodeSpec } from '../topology/types.ts';
import { waitFor } from '../util/wait.ts';

/** One probe's limit: a service slower than this to answer is not healthy (observe marks it red within a sample). */
export const PROBE_TIMEOUT_MS = 800;

/** How often a start is probed: a refused connection costs nothing, and a started server takes tens of ms to listen. */
export const POLL_INTERVAL_MS = 25;

export interface Probed {
  healthy: boolean;
  latencyMs?: number;
  detail: string;
}

/** Where and as whom a data server is asked (the grader's Login has this shape). */
export interface Login {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
}

/**
 * May `login`'s password go to whoever listens at its address now? Asked on a connection already
 * open, just before the password would go (src/runtime/handshake.ts mayReceive for ecomnet's own).
 */
export type Trust = (login: Login) => Promise<boolean>;

const trustAll: Trust = async () => true;

/** A probe keeping its connection between probes (a socket, a Redis connection, a PostgreSQL session), opened again after a failure. */
export interface KeptProbe {
  probe(): Promise<Probed>;
  close(): void;
}

export interface Readiness {
  readonly kind: 'http' | 'redis' | 'postgres';
  /** What is asked: `10.0.0.20:3000/health`, `10.0.0.50:6379`. */
  readonly address: string;
  /** Who is asked, as whom: two values of one `key` ask the same question. */
  readonly key: string;
  readonly probeTimeoutMs: number;
  /** How long a start may take before it answers. */
  readonly startupTimeoutMs: number;
  /** One probe on a connection of its own, closed after it (a single look: `status`). */
  probe(): Promise<Probed>;
  /** A probe that keeps its connection: for asking every second (`observe`). */
  kept(): KeptProbe;
  /** Probe until it is ready; throws after `timeoutMs` (the start deadline) with the last answer. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
}

const reason = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e);

function readiness(kind: Readiness['kind'], address: string, key: string, startupTimeoutMs: number, kept: () => KeptProbe): Readiness {
  const once = async () => {
    const k = kept();
    try {
      return await k.probe();
    } finally {
      k.close();
    }
  };
  return {
    kind,
    address,
    key,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    startupTimeoutMs,
    probe: once,
    kept,
    waitUntilReady: (timeoutMs = startupTimeoutMs) =>
      waitFor(
        async () => {
          const p = await once();
          if (!p.healthy) throw new Error(p.detail);
        },
        { what: `${kind} at ${address}`, timeoutMs, intervalMs: POLL_INTERVAL_MS },
      ),
  };
}

// ---- HTTP -----------------------------------------------------------------------------------------

/** GET `path` answered 200; any other status, or none within the probe timeout, is not ready. */
export function httpReadiness(o: { host: string; port: number; path: string; startupTimeoutMs?: number }): Readiness {
  const address = `${o.host}:${o.port}${o.path}`;
  return readiness('http', address, `http ${address}`, o.startupTimeoutMs ?? 30_000, () => {
    // One kept-alive socket: a probe a second would otherwise fill conntrack with TIME_WAITs.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return { probe: () => probeHttp(agent, o.host, o.port, o.path), close: () => agent.destroy() };
  });
}

function probeHttp(agent: Agent, host: string, port: number, path: string): Promise<Probed> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = get({ host, port, path, agent, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.once('end', () => resolve({ healthy: res.statusCode === 200, latencyMs: performance.now() - t0, detail: String(res.statusCode) }));
      res.once('error', (e) => resolve({ healthy: false, detail: reason(e) }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (e) => resolve({ healthy: false, detail: reason(e) }));
  });
}

// ---- Redis ----------------------------------------------------------------------------------------

const loginKey = (kind: string, l: Login) => JSON.stringify([kind, l.host, l.port, l.user, l.password, l.database]);

/** PING answered +PONG, after AUTH when the login has a password (which goes only where `trust` allows). */
export function redisReadiness(login: Login, o: { trust?: Trust; startupTimeoutMs?: number } = {}): Readiness {
  return readiness('redis', `${login.host}:${login.port}`, loginKey('redis', login), o.startupTimeoutMs ?? 15_000, () => {
    const p = new RedisProbe(o.trust);
    return { probe: () => p.probe(login), close: () => p.close() };
  });
}

/** A RESP command as Redis reads it: an array of bulk strings. */
const resp = (...words: string[]): string => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;

/**
 * A Redis connection kept between probes: AUTH once when it opens (when there is a password),
 * then a PING per probe answered +PONG; opened again after any failure or another login.
 */
export class RedisProbe {
  #socket: Socket | undefined;
  #login: Login | undefined;
  #buffered = '';
  #waiting: ((reply: string | Error) => void) | undefined;
  readonly #trust: Trust;

  constructor(trust: Trust = trustAll) {
    this.#trust = trust;
  }

  async probe(login: Login): Promise<Probed> {
    if (this.#login && JSON.stringify(login) !== JSON.stringify(this.#login)) this.close();
    this.#login = login;
    const t0 = performance.now();
    try {
      if (!this.#socket) {
        await this.#open(login);
        // AUTH is the password itself: asked once the connection is open, of whoever listens now.
        if (login.password !== undefined && !(await this.#trust(login))) throw withheld(login);
        if (login.password !== undefined) expectReply(await this.#ask(resp('AUTH', login.user, login.password)), '+OK');
      }
      expectReply(await this.#ask(resp('PING')), '+PONG');
      return { healthy: true, latencyMs: performance.now() - t0, detail: 'PONG' };
    } catch (e) {
      this.close();
      return { healthy: false, detail: reason(e) };
    }
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#buffered = '';
    this.#settle(new Error('closed'));
  }

  #open(l: Login): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: l.host, port: l.port, timeout: PROBE_TIMEOUT_MS }, () => {
        s.setTimeout(0);
        resolve();
      });
      this.#socket = s;
      // A socket closed by close() may still report: only the current one speaks to the waiter.
      const current = () => this.#socket === s;
      s.setEncoding('utf8').on('data', (d: string) => {
        if (!current()) return;
        this.#buffered += d;
        const end = this.#buffered.indexOf('\r\n');
        if (end < 0) return;
        const line = this.#buffered.slice(0, end);
        this.#buffered = this.#buffered.slice(end + 2);
        this.#settle(line);
      });
      s.once('timeout', () => s.destroy(new Error('timeout')));
      s.once('error', (e) => {
        reject(e);
        if (current()) this.#settle(e);
      });
      s.once('close', () => {
        reject(new Error('closed'));
        if (!current()) return;
        this.#socket = undefined;
        this.#settle(new Error('closed'));
      });
    });
  }

  /** Writes a command and waits for its one-line reply (AUTH and PING answer on one line). */
  #ask(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(new Error('timeout')), PROBE_TIMEOUT_MS);
      this.#waiting = (reply) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      };
      this.#socket?.write(command);
    });
  }

  #settle(reply: string | Error): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(reply);
  }
}

const withheld = (l: Login) => new Error(`password withheld: the server at ${l.host}:${l.port} is not the one the platform started`);

/** A reply other than the expected one fails the probe with Redis's own words (-WRONGPASS ..., -LOADING ...). */
function expectReply(got: string, wanted: string): void {
  if (got !== wanted) throw new Error(got.replace(/^[-+]/, '') || 'empty reply');
}

// ---- PostgreSQL -----------------------------------------------------------------------------------

/** `SELECT 1` answered after a login that gives its password to SCRAM only, and only where `trust` allows. */
export function postgresReadiness(login: Login, o: { trust?: Trust; startupTimeoutMs?: number; application?: string } = {}): Readiness {
  return readiness('postgres', `${login.host}:${login.port}`, loginKey('postgres', login), o.startupTimeoutMs ?? 30_000, () => {
    const p = new PostgresProbe(login, o.trust, o.application);
    return { probe: () => p.probe(), close: () => p.close() };
  });
}

/** A PostgreSQL session kept between probes, opened again after any failure or another login. */
export class PostgresProbe {
  #client: ScramOnlyClient | undefined;
  #login: Login;
  readonly #trust: Trust;
  readonly #application: string;

  constructor(login: Login, trust: Trust = trustAll, application = 'ecomnet readiness') {
    this.#login = login;
    this.#trust = trust;
    this.#application = application;
  }

  async probe(login: Login = this.#login): Promise<Probed> {
    if (JSON.stringify(login) !== JSON.stringify(this.#login)) {
      this.close();
      this.#login = login;
    }
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.#client) {
        // Loaded on the first probe: a look at the HTTP servers alone never needs pg.
        const { ScramOnlyClient } = await import('../services/scram-only.ts');
        const c = new ScramOnlyClient({
          host: login.host,
          port: login.port,
          user: login.user,
          // Asked for when the server asks for it (SCRAM only), of whoever listens then.
          password:
            login.password === undefined
              ? undefined
              : async () => {
                  if (!(await this.#trust(login))) throw withheld(login);
                  return login.password!;
                },
          database: login.database,
          connectionTimeoutMillis: PROBE_TIMEOUT_MS,
          application_name: this.#application,
        });
        c.on('error', () => this.close());
        this.#client = c;
        await c.connect();
      }
      const answered = this.#client.query('SELECT 1');
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS)));
      await Promise.race([answered, timeout]);
      return { healthy: true, latencyMs: performance.now() - t0, detail: 'SELECT 1' };
    } catch (e) {
      this.close();
      return { healthy: false, detail: reason(e) };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    const c = this.#client;
    this.#client = undefined;
    c?.end().catch(() => {});
  }
}

// ---- which readiness each component has --------------------------------------------------------------

/** The path each HTTP server of the topology answers 200 on when it serves, and how long its start may take. */
const HTTP_READY: Partial<Record<Component, { path: string; startupTimeoutMs: number }>> = {
  nginx: { path: '/health', startupTimeoutMs: 30_000 },
  gateway: { path: '/health', startupTimeoutMs: 30_000 },
  product: { path: '/health', startupTimeoutMs: 30_000 },
  order: { path: '/health', startupTimeoutMs: 30_000 },
  // The simulated internet host answers its page at /.
  internet: { path: '/', startupTimeoutMs: 10_000 },
};

/**
 * The readiness of the server a node of the topology runs, asked at `at` (containers mode
 * publishes the data servers elsewhere; default: the node's own address) with `login`'s user,
 * password and database for the data servers. Undefined for a node that serves nothing (the
 * external client).
 */
export function readinessOf(n: NodeSpec, o: { at?: { host: string; port: number }; login?: Omit<Login, 'host' | 'port'>; trust?: Trust } = {}): Readiness | undefined {
  if (n.port === undefined || n.component === undefined) return undefined;
  const at = o.at ?? { host: n.ip, port: n.port };
  const http = HTTP_READY[n.component];
  if (http) return httpReadiness({ ...at, ...http });
  if (n.component === 'redis') return redisReadiness({ user: 'default', ...o.login, ...at }, { trust: o.trust });
  if (n.component === 'postgres') return postgresReadiness({ user: 'postgres', ...o.login, ...at }, { trust: o.trust });
  return undefined;
}
