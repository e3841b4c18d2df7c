import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { installHttpConventions, MAX_BODY_BYTES, serverOptions } from '../http.ts';
import { Upstream, type UpstreamRequest } from './upstream.ts';

export interface GatewayAppOptions {
  productUrl: string;
  orderUrl: string;
  timeoutMs?: number;
  logger?: FastifyServerOptions['logger'];
}

/**
 * The seed's routes under /api, proxied to the product and order services. Upstream
 * status, body, Content-Type and X-Cache are passed back unchanged; a refusing upstream
 * is a 503 and one that misses the deadline a 504, both JSON.
 */
export function buildGatewayApp(opts: GatewayAppOptions): FastifyInstance {
  const { timeoutMs = 2000 } = opts;
  const products = new Upstream('product-service', opts.productUrl, timeoutMs);
  const orders = new Upstream('order-service', opts.orderUrl, timeoutMs);
  const app = Fastify(serverOptions(opts.logger));
  installHttpConventions(app);
  app.addHook('onClose', async () => {
    await Promise.all([products.close(), orders.close()]);
  });

  // Bodies are relayed as bytes so the order service alone judges JSON and media type (400/415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  // The caller's extra headers, if any, travel in the same flat list as the request id.
  const relay = async (request: FastifyRequest, reply: FastifyReply, upstream: Upstream, method: UpstreamRequest['method'], path: string, headers: string[] = [], body?: Buffer) => {
    headers.push('x-request-id', request.id);
    const res = await upstream.send({ method, path, headers, body });
    return reply.code(res.status).headers(res.headers).send(res.body);
  };

  // The order service alone judges who may read orders: the caller's credential goes to it as given.
  const credentials = (request: FastifyRequest): string[] => {
    const { authorization } = request.headers;
    return authorization === undefined ? [] : ['authorization', authorization];
  };

  app.get('/health', async () => ({ status: 'healthy', service: 'api-gateway' }));

  app.get('/api/products', (request, reply) => relay(request, reply, products, 'GET', '/products'));

  app.get<{ Params: { id: string } }>('/api/products/:id', (request, reply) => relay(request, reply, products, 'GET', `/products/${encodeURIComponent(request.params.id)}`));

  app.post('/api/orders', (request, reply) => {
    const headers: string[] = [];
    for (const name of ['content-type', 'idempotency-key']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.push(name, value);
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return relay(request, reply, orders, 'POST', '/orders', headers, body);
  });

  app.get<{ Querystring: Record<string, string | string[]> }>('/api/orders', (request, reply) => {
    // Only the paging parameters are forwarded; anything else stays at the edge.
    const query = new URLSearchParams();
    for (const name of ['limit', 'offset']) {
      const value = request.query[name];
      if (typeof value === 'string') query.set(name, value);
    }
    const qs = query.size ? `?${query}` : '';
    return relay(request, reply, orders, 'GET', `/orders${qs}`, credentials(request));
  });

  app.get<{ Params: { id: string } }>('/api/orders/:id', (request, reply) => relay(request, reply, orders, 'GET', `/orders/${encodeURIComponent(request.params.id)}`, credentials(request)));

  return app;
}
