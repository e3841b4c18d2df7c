import { type Ctx, type Name, NAMES, type Store, ends, served } from './common.ts';

export function needsOf(ctx: Ctx): Record<string, string[]> {
  const { pg, redis } = ctx;
  // Namespace to namespace over the bridge: both ends, the bridge, and FORWARD when br_netfilter sends bridged frames there.
  const l2 = (a: Name, b: Name, icmp = false) => [...ends(a), ...ends(b), 'bridge', icmp ? 'fwd-bridge-icmp' : 'fwd-bridge'];
  // Host to namespace (or namespace to 10.0.0.1): the bridge's address is the host's side.
  const viaHost = (ns: Name) => [...ends(ns), 'bridge', 'bridge-ip'];
  const toStore = (from: Name, s: Store) => (s.onHost ? viaHost(from) : l2(from, s.ns));
  const pgServes = ['pg-running', 'pg-listen', 'pg-open'];
  const redisServes = [...(redis.onHost ? [] : [`ns:${redis.ns}`]), 'redis-running', 'redis-listen', 'redis-open'];
  const ext = [...viaHost('nginx-lb'), 'route:nginx-lb', 'forward', 'dnat-path', ...served('nginx-lb')];
  const gwLocal = ['ns:api-gateway', 'lo:api-gateway', 'listening:api-gateway', 'listen-local:api-gateway'];
  const nginxToGw = [...l2('nginx-lb', 'api-gateway'), ...served('api-gateway'), 'nginx-upstream'];
  const health = ctx.nginxAnswersHealth ? [] : nginxToGw;
  const productToRedis = [...toStore('product-service', redis), ...redisServes, 'redis-reach', 'product-redis-addr'];
  const toProduct = [...l2('api-gateway', 'product-service'), ...served('product-service'), 'gateway-product', ...(ctx.productNeedsRedis ? productToRedis : [])];
  const orderToPg = [...toStore('order-service', pg), ...pgServes];
  const hostToPg = [...(pg.onHost ? [] : viaHost(pg.ns)), ...pgServes, 'pg-reach'];
  const toOrder = [...l2('api-gateway', 'order-service'), ...served('order-service'), 'gateway-order', ...orderToPg, 'pg-reach', 'pg-auth', 'pg-db', 'pg-table', 'order-db-addr'];
  const extHealth = [...ext, ...health];
  return {
    '1.1-netns-list': NAMES.map((n) => `ns:${n}`),
    '1.2-bridge': ['bridge', 'bridge-ip', ...NAMES.flatMap((n) => [`ns:${n}`, `attach:${n}`])],
    '1.2-veth': NAMES.flatMap(ends),
    '1.2-diagram': ['drawn'],
    '1.2-ping-nginx': [...l2('nginx-lb', 'api-gateway', true), ...l2('nginx-lb', 'product-service', true)],
    '1.2-ping-gateway': [...l2('api-gateway', 'product-service', true), ...l2('api-gateway', 'order-service', true)],
    '1.3-internet': [...viaHost('product-service'), 'route:product-service', 'forward', 'egress'],
    '1.4-external-client': extHealth,
    '1.4-nat-rules': ['rule:masquerade', 'rule:dnat', 'rule:forward'],
    '1.4-traffic-flow': extHealth,
    '2.1-health-host': extHealth,
    '2.1-health-namespace': [...l2('api-gateway', 'nginx-lb'), ...served('nginx-lb'), ...health],
    '2.2-listening': ['ns:api-gateway', 'listening:api-gateway'],
    '2.2-health-inside': gwLocal,
    '2.2-health-nginx': [...l2('nginx-lb', 'api-gateway'), ...served('api-gateway')],
    '2.2-products-namespace': [...gwLocal, ...toProduct],
    '2.2-products-host': [...ext, ...nginxToGw, ...toProduct, 'real-ip'],
    '2.2-orders-namespace': [...gwLocal, ...toOrder],
    '2.2-orders-host': [...ext, ...nginxToGw, ...toOrder],
    '2.3-redis-listening': [...(redis.onHost ? [] : [`ns:${redis.ns}`]), 'redis-running', 'redis-listen'],
    // Caching is proven from Redis after a GET through the gateway.
    '2.3-product-reaches-redis': [...productToRedis, ...gwLocal, ...toProduct, 'cache-write'],
    '2.4-order-listening': ['ns:order-service', 'listening:order-service'],
    '2.4-postgres-running': [...(pg.onHost ? [] : [`ns:${pg.ns}`]), 'pg-running'],
    '2.4-postgres-listening': hostToPg,
    '2.4-order-reaches-postgres': orderToPg,
    '2.4-order-written': [...gwLocal, ...toOrder],
    '2.4-order-read-back': [...gwLocal, ...toOrder, ...hostToPg, 'pg-columns'],
  };
}
