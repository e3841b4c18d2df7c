import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { ServiceConfig } from './config.ts';
import { buildGatewayApp } from './gateway/app.ts';
import { buildOrderApp, createOrderPool, ensureSchema } from './order/app.ts';
import { buildProductApp } from './product/app.ts';

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

async function build(config: ServiceConfig, opts: StartOptions): Promise<FastifyInstance> {
  switch (config.service) {
    case 'gateway':
      return buildGatewayApp({ ...config, logger: opts.logger });
    case 'product':
      return buildProductApp({ redis: config.redisUrl, logger: opts.logger });
    case 'order': {
      // The pool is created here so the schema step and the app share it; the app then owns it.
      const pool = createOrderPool(config.pgUrl);
      const app = buildOrderApp({ pool, closePool: true, logger: opts.logger });
      try {
        await retry(() => ensureSchema(pool), opts.schemaTimeoutMs ?? 30_000, (err, attempt) =>
          app.log.warn({ attempt, err: errorMessage(err) }, 'database not ready, retrying'),
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
