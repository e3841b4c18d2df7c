/**
 * Each service asked the way its clients ask it: nginx and the three Node services by HTTP
 * GET /health, Redis by its own protocol (AUTH, PING), PostgreSQL by a `SELECT 1` on a session
 * kept open (a login a second would cost the server a process each time), with the run's
 * credentials where the platform is ecomnet's and the seed's otherwise (src/grader/logins.ts).
 */
import { Agent, get } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
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

/** RESP by hand: AUTH (when there is a password) and PING, answered +OK and +PONG. */
export function probeRedis(l: Login): Promise<Probed> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let got = '';
    const done = (p: Probed) => {
      s.destroy();
      resolve(p);
    };
    const s = connect({ host: l.host, port: l.port, timeout: PROBE_TIMEOUT_MS }, () => {
      const bulk = (w: string) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`;
      const auth = l.password === undefined ? '' : `*3\r\n${bulk('AUTH')}${bulk(l.user)}${bulk(l.password)}`;
      s.write(`${auth}*1\r\n${bulk('PING')}`);
    });
    s.setEncoding('utf8').on('data', (d: string) => {
      got += d;
      if (got.includes('+PONG\r\n')) done({ healthy: true, latencyMs: performance.now() - t0, detail: 'PONG' });
      else if (got.startsWith('-') && got.includes('\r\n')) done({ healthy: false, detail: got.slice(1, got.indexOf('\r\n')) });
    });
    s.once('timeout', () => done({ healthy: false, detail: 'timeout' }));
    s.once('error', (e) => done({ healthy: false, detail: reason(e) }));
    s.once('close', () => done({ healthy: false, detail: got.trim() || 'closed' }));
  });
}

/** A PostgreSQL session kept between probes, opened again after any failure. */
export class PostgresProbe {
  #client: pg.Client | undefined;
  #login: Login;

  constructor(login: Login) {
    this.#login = login;
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
        const c = new pg.Client({
          host: login.host,
          port: login.port,
          user: login.user,
          password: login.password,
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
