import { Redis, type RedisOptions } from 'ioredis';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/**
 * Options that make Redis an optional accelerator: commands fail at once while
 * disconnected (no offline queue), a stalled server costs at most commandTimeout,
 * and the client keeps reconnecting in the background so the cache comes back by itself.
 * Auto-pipelining sends the commands of one event-loop turn in a single write: under load that
 * saves a syscall (and a Redis read) per request.
 */
export const CACHE_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  enableAutoPipelining: true,
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
  connectTimeout: 1000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
};

export function createCacheClient(target: string | RedisOptions): Redis {
  return typeof target === 'string' ? new Redis(target, CACHE_CLIENT_OPTIONS) : new Redis({ ...CACHE_CLIENT_OPTIONS, ...target });
}

/** Serialised catalogue entry, exactly the bytes the client receives. */
export interface CacheRead {
  json: string | undefined;
  status: CacheStatus;
}

// Entries seen to parse, by key: a HIT equal to one of these is sent without parsing it again.
// Only keys present in Redis get here, and a full map starts over, so it stays small.
const verified = new Map<string, string>();
const MAX_VERIFIED = 1024;

function isJson(key: string, cached: string): boolean {
  if (verified.get(key) === cached) return true;
  try {
    JSON.parse(cached);
  } catch {
    return false;
  }
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(key, cached);
  return true;
}

/**
 * Cache-aside read: a cached JSON value is a HIT, passed on as the stored string; otherwise
 * `load` runs and a found value is stored with SETEX. Any Redis failure degrades to BYPASS
 * instead of failing the request.
 */
export async function readThrough(redis: Redis, key: string, ttlSeconds: number, load: () => unknown): Promise<CacheRead> {
  let cached: string | null;
  try {
    cached = await redis.get(key);
  } catch {
    return { json: serialise(load()), status: 'BYPASS' };
  }
  // A corrupt entry is treated as absent and overwritten below.
  if (cached !== null && isJson(key, cached)) return { json: cached, status: 'HIT' };
  const json = serialise(load());
  if (json === undefined) return { json, status: 'MISS' };
  try {
    await redis.setex(key, ttlSeconds, json);
    return { json, status: 'MISS' };
  } catch {
    return { json, status: 'BYPASS' };
  }
}

const serialise = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
