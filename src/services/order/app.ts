import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import pg from 'pg';
import { ScramOnlyClient } from '../scram-only.ts';
import { HttpError, installHttpConventions, serverOptions } from '../http.ts';
import { operatorOnly, readerOf } from './access.ts';
import { countOrders, createOrder, getOrder, isDbUnavailable, isStatementTimeout, listOrders } from './store.ts';
import { parseIdempotencyKey, parseNewOrder, parseOrderId, parsePage } from './validate.ts';

export { ensureSchema } from './schema.ts';

export interface OrderAppOptions {
  /** A pool (left open on close) or a pool config / connection string (owned and closed). */
  pool: pg.Pool | pg.PoolConfig | string;
  /** End the pool when the app closes; defaults to true unless a Pool instance was passed. */
  closePool?: boolean;
  /** The run's operator token: the only credential that reads orders. Without one, nobody does. */
  operatorToken?: string;
  logger?: FastifyServerOptions['logger'];
}

/**
 * Connections to keep: each order is a single round trip, so a pool this size keeps PostgreSQL
 * busy on a small host while leaving most of its 100 max_connections to everyone else.
 */
export const DEFAULT_POOL_SIZE = 20;

/**
 * The longest a statement may run: PostgreSQL itself cancels it then (SQLSTATE 57014), so a slow
 * query stops costing the server when nobody waits for it any more: the gateway gives up after
 * its own 2 s. The client's query_timeout stays for a server that cannot answer at all.
 */
export const STATEMENT_TIMEOUT_MS = 2000;

/** Defaults that turn a missing database into a prompt 503 instead of a hung request. */
export function createOrderPool(config: pg.PoolConfig | string, max = DEFAULT_POOL_SIZE): pg.Pool {
  const base = typeof config === 'string' ? { connectionString: config } : config;
  const pool = new pg.Pool({
    // A stranger listening where the database was (the bridge address, in containers mode) gets no password.
    Client: ScramOnlyClient,
    max,
    connectionTimeoutMillis: 2000,
    // Sent in each connection's startup packet: the server's own limit for this session.
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: 5000,
    idleTimeoutMillis: 10_000,
    ...base,
  });
  // The pool hears a connection's 'error' only while it is idle or inside pool.query(): one
  // dying with the database while checked out (a transaction between two queries, or the
  // server's FATAL arriving after the socket's reset) was an unheard 'error' event that crashed
  // the service. Heard here, it costs nothing: the next query on it fails (a 503) and the pool
  // discards it.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * Routes: GET /health, POST /orders, GET /orders/:id, GET /orders?limit&offset.
 * GET /orders answers the operator (see access.ts) a bare JSON array, newest first, and anyone
 * else only how many orders there are (which any POST's sequential order_id tells anyway);
 * GET /orders/:id is the operator's only (401 otherwise).
 * A POST repeating an Idempotency-Key with the same payload answers 200 with the first
 * order's id and `Idempotent-Replayed: true`; with a different payload, 422.
 */
export function buildOrderApp(opts: OrderAppOptions): FastifyInstance {
  const owned = opts.closePool ?? !(opts.pool instanceof pg.Pool);
  const pool = opts.pool instanceof pg.Pool ? opts.pool : createOrderPool(opts.pool);
  const app = Fastify(serverOptions(opts.logger));
  installHttpConventions(app, (err) => {
    if (isStatementTimeout(err)) return new HttpError(503, 'Database did not answer in time');
    return isDbUnavailable(err) ? new HttpError(503, 'Database unavailable') : undefined;
  });
  // Orders are JSON only; Fastify's built-in text/plain parser would otherwise turn a 415 into a 400.
  app.removeContentTypeParser('text/plain');

  // An idle client dying with the database emits 'error' on the pool; unheard, it would crash the
  // process. The listener stays for the pool's whole life: a pool passed in can outlive this app
  // (its clients ending while the database stops) and still hear a FATAL then.
  pool.on('error', (err: Error) => app.log.warn({ err: err.message }, 'idle database connection lost'));
  app.addHook('onClose', async () => {
    if (owned) await pool.end();
  });

  app.get('/health', async () => ({ status: 'healthy', service: 'order-service' }));

  app.post('/orders', async (request, reply) => {
    const order = parseNewOrder(request.body);
    const key = parseIdempotencyKey(request.headers['idempotency-key']);
    const result = await createOrder(pool, order, key);
    if (result.kind === 'conflict') {
      throw new HttpError(422, 'Idempotency-Key was already used with a different order');
    }
    if (result.kind === 'replayed') reply.code(200).header('idempotent-replayed', 'true');
    else reply.code(201);
    return { order_id: result.orderId, status: 'created' };
  });

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    if (readerOf(request.headers.authorization, opts.operatorToken) !== 'operator') throw operatorOnly('Reading an order needs the operator token (Authorization: Bearer <token>)');
    const id = parseOrderId(request.params.id);
    const order = id === null ? undefined : await getOrder(pool, id);
    if (!order) return reply.code(404).send({ error: 'Order not found' });
    return order;
  });

  // Strangers' counts share one query in flight: however many ask at once, they hold one connection.
  let counting: Promise<number> | undefined;
  const count = () => {
    counting ??= countOrders(pool).finally(() => {
      counting = undefined;
    });
    return counting;
  };
  app.get<{ Querystring: { limit?: string; offset?: string } }>('/orders', async (request) => {
    const page = parsePage(request.query);
    if (readerOf(request.headers.authorization, opts.operatorToken) === 'operator') return listOrders(pool, page);
    return { count: await count(), note: 'Listing orders needs the operator token (Authorization: Bearer <token>)' };
  });

  return app;
}
