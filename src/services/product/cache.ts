import { Redis, type RedisOptions } from 'ioredis';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/**
 * Options that make Redis an optional accelerator: commands fail at once while
 * disconnected (no offline queue), a stalled server costs at most commandTimeout,
 * and the client keeps reconnecting in the background so the cache comes back by itself.
 */
export const CACHE_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
  connectTimeout: 1000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
};

export function createCacheClient(target: string | RedisOptions): Redis {
  return typeof target === 'string'
    ? new Redis(target, CACHE_CLIENT_OPTIONS)
    : new Redis({ ...CACHE_CLIENT_OPTIONS, ...target });
}

/**
 * Cache-aside read: a cached JSON value is a HIT; otherwise `load` runs and a found value
 * is stored with SETEX. Any Redis failure degrades to BYPASS instead of failing the request.
 */
export async function readThrough<T>(
  redis: Redis,
  key: string,
  ttlSeconds: number,
  load: () => T | undefined,
): Promise<{ value: T | undefined; status: CacheStatus }> {
  let cached: string | null;
  try {
    cached = await redis.get(key);
  } catch {
    return { value: load(), status: 'BYPASS' };
  }
  if (cached !== null) {
    try {
      return { value: JSON.parse(cached) as T, status: 'HIT' };
    } catch {
      // A corrupt entry is treated as absent and overwritten below.
    }
  }
  const value = load();
  if (value === undefined) return { value, status: 'MISS' };
  try {
    await redis.setex(key, ttlSeconds, JSON.stringify(value));
    return { value, status: 'MISS' };
  } catch {
    return { value, status: 'BYPASS' };
  }
}
