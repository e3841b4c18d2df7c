/**
 * How the grader logs in to the data layer it found: the seed's credentials (PostgreSQL
 * postgres/postgres, database orders; Redis without a password) unless told otherwise, by
 * `--pg-url` / `--redis-url` (ECOMNET_PG_URL, ECOMNET_REDIS_URL) or by whoever runs the grader
 * (ecomnet's own platform hands over its run's logins through src/runtime/handshake.ts). The
 * grader reads no file of anyone's to find them.
 */
import { bridge, namespaces, seedLogin } from './contract.ts';
import { postgresAt, redisAt } from './find.ts';
import type { HostModel } from './model.ts';
import type { Login } from '../net/readiness.ts';

/** Where and as whom a data server is asked: the shape readiness probes take (src/net/readiness.ts). */
export type { Login } from '../net/readiness.ts';

/** What the grader is told to log in with: URLs, each part of which overrides what was found. */
export interface Credentials {
  pgUrl?: string;
  redisUrl?: string;
}

function fromUrl(url: string | undefined): Partial<Login> {
  if (!url) return {};
  const u = new URL(url);
  const dec = (s: string) => (s ? decodeURIComponent(s) : undefined);
  const given: Partial<Login> = { host: u.hostname || undefined, port: u.port ? Number(u.port) : undefined, user: dec(u.username), password: dec(u.password), database: dec(u.pathname.slice(1)) };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}

const pg = namespaces.find((n) => n.name === 'postgres-db')!;
const redis = namespaces.find((n) => n.name === 'redis-cache')!;

/** PostgreSQL where it was found (the seed's Docker on the bridge address when nowhere), as the seed logs in unless a URL says otherwise. */
export function pgLogin(model: HostModel, url = process.env.ECOMNET_PG_URL): Login {
  return { host: postgresAt(model)?.address ?? bridge.ip, port: pg.port, user: seedLogin.user, password: seedLogin.password, database: seedLogin.database, ...fromUrl(url) };
}

/** Redis where it was found (the seed's redis-cache when nowhere), without a password unless a URL gives one. */
export function redisLogin(model: HostModel, url = process.env.ECOMNET_REDIS_URL): Login {
  return { host: redisAt(model)?.address ?? redis.ip, port: redis.port, user: 'default', ...fromUrl(url) };
}

/** A login as a URL, for clients that take one (pg, ioredis) and for handing one over. */
export function loginUrl(scheme: 'postgres' | 'redis', l: Login): string {
  const auth = l.password !== undefined ? `${encodeURIComponent(scheme === 'redis' ? '' : l.user)}:${encodeURIComponent(l.password)}@` : scheme === 'postgres' ? `${encodeURIComponent(l.user)}@` : '';
  return `${scheme}://${auth}${l.host}:${l.port}${l.database ? `/${encodeURIComponent(l.database)}` : ''}`;
}
