import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis, RedisOptions } from 'ioredis';
import { installHttpConventions, serverOptions } from '../http.ts';
import { createCacheClient, readThrough } from './cache.ts';
import { PRODUCTS, type Product } from './products.ts';

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

  app.get('/products', async (_request, reply) => {
    const { value, status } = await readThrough(redis, 'all_products', ttlSeconds, () => [...PRODUCTS.values()]);
    return reply.header('x-cache', status).send(value);
  });

  app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
    const { id } = request.params;
    const { value, status } = await readThrough<Product>(redis, `product_${id}`, ttlSeconds, () => PRODUCTS.get(id));
    reply.header('x-cache', status);
    if (value === undefined) return reply.code(404).send({ error: 'Product not found' });
    return reply.send(value);
  });

  return app;
}

function isClient(r: ProductAppOptions['redis']): r is Redis {
  return typeof r === 'object' && typeof (r as Redis).get === 'function';
}
