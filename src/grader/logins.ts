/**
 * How the grader logs in to the data layer it found: the seed's credentials (PostgreSQL
 * postgres/postgres, database orders; Redis without a password), ecomnet's per-run secrets when
 * the platform on the host is ecomnet's, or what ECOMNET_PG_URL / ECOMNET_REDIS_URL say.
 */
import { READER_ROLE } from '../data/postgres.ts';
import type { RunDir } from '../host/run-dir.ts';
import { readState } from '../host/state.ts';
import { readSecrets, type Secrets } from '../runtime/secrets.ts';
import { bridge, namespaces, seedLogin } from './contract.ts';
import { postgresAt, redisAt } from './find.ts';
import type { HostModel } from './model.ts';

export interface Login {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
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

/**
 * PostgreSQL where it was found (the seed's Docker on the bridge address when nowhere), as the
 * seed logs in unless told otherwise; on ecomnet's platform as its read-only operator role.
 */
export function pgLogin(model: HostModel, ecomnet?: Secrets, url = process.env.ECOMNET_PG_URL): Login {
  const as = ecomnet ? { user: READER_ROLE, password: ecomnet.reader } : { user: seedLogin.user, password: seedLogin.password };
  return { host: postgresAt(model)?.address ?? bridge.ip, port: pg.port, ...as, database: seedLogin.database, ...fromUrl(url) };
}

/** Redis where it was found (the seed's redis-cache when nowhere), without a password unless ecomnet's or told. */
export function redisLogin(model: HostModel, ecomnet?: Secrets, url = process.env.ECOMNET_REDIS_URL): Login {
  return { host: redisAt(model)?.address ?? redis.ip, port: redis.port, user: 'default', ...(ecomnet ? { password: ecomnet.redis } : {}), ...fromUrl(url) };
}

/** ecomnet's per-run passwords, when the platform up in `dir` is ecomnet's; else none (a learner's build). */
export const ecomnetSecrets = (dir: RunDir): Secrets | undefined => (readState(dir)?.phase === 'up' ? readSecrets(dir) : undefined);

/** A login as a URL, for clients that take one (pg, ioredis). */
export function loginUrl(scheme: 'postgres' | 'redis', l: Login): string {
  const auth = l.password !== undefined ? `${encodeURIComponent(scheme === 'redis' ? '' : l.user)}:${encodeURIComponent(l.password)}@` : scheme === 'postgres' ? `${encodeURIComponent(l.user)}@` : '';
  return `${scheme}://${auth}${l.host}:${l.port}${l.database ? `/${encodeURIComponent(l.database)}` : ''}`;
}
