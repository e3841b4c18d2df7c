import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { ServiceConfig } from './config.ts';

export interface StartOptions {
  logger?: FastifyServerOptions['logger'];
  /** How long the order service waits for its database before giving up. */
  schemaTimeoutMs?: number;
}

/** Build the configured service, prepare its dependencies and listen; close() releases everything. */
export async function startService(config: ServiceConfig, opts: StartOptions = {}): Promise<FastifyInstance> {
  const app = await build(config, opts);
  await app.listen({ host: config.listen.host, port: config.listen.port });
  return app;
}

// Each app is imported only when configured, so a process loads (and keeps in memory) only its
// own dependencies: undici for the gateway, ioredis for product, pg for order.
async function build(config: ServiceConfig, opts: StartOptions): Promise<FastifyInstance> {
  switch (config.service) {
    case 'gateway': {
      const { buildGatewayApp } = await import('./gateway/app.ts');
      return buildGatewayApp({ ...config, logger: opts.logger });
    }
    case 'product': {
      const { buildProductApp } = await import('./product/app.ts');
      return buildProductApp({ redis: config.redisUrl, logger: opts.logger });
    }
    case 'order': {
      const { buildOrderApp, createOrderPool, ensureSchema } = await import('./order/app.ts');
      // The pool is created here so the schema step and the app share it; the app then owns it.
      const pool = createOrderPool(config.pgUrl, config.poolSize);
      const app = buildOrderApp({ pool, closePool: true, operatorToken: config.operatorToken, logger: opts.logger });
      try {
        await retry(
          () => ensureSchema(pool),
          opts.schemaTimeoutMs ?? 30_000,
          (err, attempt) => app.log.warn({ attempt, err: errorMessage(err) }, 'database not ready, retrying'),
        );
      } catch (err) {
        await app.close();
        throw err;
      }
      return app;
    }
  }
}

async function retry(step: () => Promise<void>, timeoutMs: number, onFail: (err: unknown, attempt: number) => void) {
  const giveUpAt = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() >= giveUpAt) throw err;
      onFail(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
