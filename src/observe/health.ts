/**
 * Each service asked the way its clients ask it: nginx and the three Node services by HTTP
 * GET /health, Redis by its own protocol (AUTH, PING), PostgreSQL by a `SELECT 1` on a session
 * kept open (a login a second would cost the server a process each time), with the run's
 * credentials where the platform is ecomnet's and the seed's otherwise (src/grader/logins.ts).
 */
import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import type pg from 'pg';
import type { Login } from '../grader/logins.ts';
import type { Health } from './types.ts';

export const PROBE_TIMEOUT_MS = 800;

export interface Probed {
  healthy: boolean;
  latencyMs?: number;
  detail: string;
}

const reason = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e);

/** One kept-alive socket per service: a probe a second would otherwise fill conntrack with TIME_WAITs. */
export const probeAgent = (): Agent => new Agent({ keepAlive: true, maxSockets: 1 });

export function probeHttp(agent: Agent, ip: string, port: number, path = '/health'): Promise<Probed> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = get({ host: ip, port, path, agent, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.once('end', () => resolve({ healthy: res.statusCode === 200, latencyMs: performance.now() - t0, detail: String(res.statusCode) }));
      res.once('error', (e) => resolve({ healthy: false, detail: reason(e) }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (e) => resolve({ healthy: false, detail: reason(e) }));
  });
}

/** A RESP command as Redis reads it: an array of bulk strings. */
const resp = (...words: string[]): string => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;

/**
 * A Redis connection kept between probes, like the PostgreSQL session: AUTH once when it opens
 * (when there is a password), then a PING per probe answered +PONG; opened again after any
 * failure. A connection a second would show as new traffic to Redis and leave TIME_WAITs.
 */
export class RedisProbe {
  #socket: Socket | undefined;
  #login: Login | undefined;
  #buffered = '';
  #waiting: ((reply: string | Error) => void) | undefined;
  readonly #trust: Trust;

  constructor(trust: Trust = async () => true) {
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

/**
 * May `login`'s password go to whoever listens at its address now? (src/runtime/handshake.ts
 * mayReceive for ecomnet's own platform.)
 */
export type Trust = (login: Login) => Promise<boolean>;

const withheld = (l: Login) => new Error(`password withheld: the server at ${l.host}:${l.port} is not the one the platform started`);

/** A reply other than the expected one fails the probe with Redis's own words (-WRONGPASS ..., -LOADING ...). */
function expectReply(got: string, wanted: string): void {
  if (got !== wanted) throw new Error(got.replace(/^[-+]/, '') || 'empty reply');
}

/** A PostgreSQL session kept between probes, opened again after any failure. */
export class PostgresProbe {
  #client: pg.Client | undefined;
  #login: Login;
  readonly #trust: Trust;

  constructor(login: Login, trust: Trust = async () => true) {
    this.#login = login;
    this.#trust = trust;
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
        // Loaded on the first probe: `ecomnet status` uses this module's HTTP check and never needs pg.
        const { postgresClient } = await import('../data/postgres.ts');
        const c = postgresClient({
          host: login.host,
          port: login.port,
          user: login.user,
          // Asked for when the server asks for it (SCRAM only, see postgresClient), of whoever listens then.
          password:
            login.password === undefined
              ? undefined
              : async () => {
                  if (!(await this.#trust(login))) throw withheld(login);
                  return login.password!;
                },
          database: login.database,
          connectionTimeoutMillis: PROBE_TIMEOUT_MS,
          application_name: 'ecomnet observe',
        });
        c.on('error', () => this.close());
        this.#client = c;
        await c.connect();
      }
      const c = this.#client;
      const answered = c.query('SELECT 1');
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

/** Health records with the time of each one's last change kept from one sample to the next. */
export class HealthBook {
  readonly #since = new Map<string, { healthy: boolean; at: string }>();

  record(name: string, protocol: Health['protocol'], address: string, p: Probed, at: string): Health {
    const was = this.#since.get(name);
    const since = was && was.healthy === p.healthy ? was.at : at;
    this.#since.set(name, { healthy: p.healthy, at: since });
    return { name, protocol, address, healthy: p.healthy, ...(p.latencyMs === undefined ? {} : { latencyMs: Math.round(p.latencyMs * 10) / 10 }), detail: p.detail, since };
  }
}
