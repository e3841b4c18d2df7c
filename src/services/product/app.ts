import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Redis, RedisOptions } from 'ioredis';
import { installHttpConventions, serverOptions } from '../http.ts';
import { createCacheClient, readThrough, type CacheRead } from './cache.ts';
import { PRODUCTS } from './products.ts';

export interface ProductAppOptions {
  /** A client (left open on close; build it with createCacheClient) or a URL/options (owned and closed). */
  redis: Redis | string | RedisOptions;
  ttlSeconds?: number;
  logger?: FastifyServerOptions['logger'];
}

export function buildProductApp(opts: ProductAppOptions): FastifyInstance {
  const { ttlSeconds = 300 } = opts;
  const owned = !isClient(opts.redis);
  const redis = isClient(opts.redis) ? opts.redis : createCacheClient(opts.redis);
  const app = Fastify(serverOptions(opts.logger));
  installHttpConventions(app);

  // The X-Cache header reports outages per request; the log only needs the transitions.
  const onError = () => {};
  const onReady = () => app.log.info('redis cache connected');
  const onLost = () => app.log.warn('redis cache connection lost');
  redis.on('error', onError).on('ready', onReady).on('close', onLost);
  app.addHook('onClose', async () => {
    redis.off('ready', onReady).off('close', onLost);
    if (owned) redis.disconnect();
    redis.off('error', onError);
  });

  app.get('/health', async () => ({ status: 'healthy', service: 'product-service' }));

  // Cached entries are already the response body: sent as they are, not parsed and re-serialised.
  const sendJson = (reply: FastifyReply, { json, status }: CacheRead) => {
    reply.header('x-cache', status);
    if (json === undefined) return reply.code(404).send({ error: 'Product not found' });
    return reply.type('application/json; charset=utf-8').send(json);
  };

  app.get('/products', async (_request, reply) => sendJson(reply, await readThrough(redis, 'all_products', ttlSeconds, () => [...PRODUCTS.values()])));

  app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
    const { id } = request.params;
    return sendJson(reply, await readThrough(redis, `product_${id}`, ttlSeconds, () => PRODUCTS.get(id)));
  });

  return app;
}

function isClient(r: ProductAppOptions['redis']): r is Redis {
  return typeof r === 'object' && typeof (r as Redis).get === 'function';
}
