import { cache } from '../contract.ts';
import { type Ctx, type Fault, SUBNET, inNs, ends } from './common.ts';
import { SEED_COLUMNS, startCommand } from './services.ts';

/** Facts from connecting: blamed only when nothing the host shows already explains them. */
export function liveFaults(ctx: Ctx, needs: Record<string, string[]>, broken: Set<string>): Fault[] {
  const clear = (id: string, except: string[] = []) => needs[id]!.every((k) => except.includes(k) || !broken.has(k));
  const out: Fault[] = [];
  const pg = ctx.facts.postgres;
  if (pg && ctx.pg.at && clear('2.4-postgres-listening', ['pg-reach'])) {
    const psql = `psql -h ${pg.host} -U ${pg.user}`;
    if (pg.reachable === false) {
      out.push({
        id: 'postgres-unreachable',
        cause: `the host cannot connect to PostgreSQL at ${pg.host}:${pg.port}: ${pg.error ?? 'no answer'}`,
        fix: `sudo ss -ltnp 'sport = :${pg.port}' && ${psql} -d ${pg.database} -c 'SELECT 1'`,
        breaks: ['pg-reach'],
      });
    } else if (pg.authOk === false) {
      const hba = pg.code === '28000';
      out.push({
        id: 'postgres-auth-failed',
        cause: hba ? `PostgreSQL refuses ${pg.user} from the lab's addresses (no pg_hba.conf entry): ${pg.error}` : `PostgreSQL rejects ${pg.user}'s password: ${pg.error ?? pg.code}`,
        fix: hba
          ? `add \`host all all ${SUBNET} scram-sha-256\` to pg_hba.conf, then: sudo -u postgres psql -c 'SELECT pg_reload_conf()'`
          : `sudo -u postgres psql -c "ALTER USER ${pg.user} PASSWORD 'postgres'"`,
        breaks: ['pg-auth'],
      });
    } else if (pg.databaseExists === false) {
      out.push({ id: 'orders-database-missing', cause: `PostgreSQL at ${pg.host} has no database ${pg.database}`, fix: `${psql} -c 'CREATE DATABASE ${pg.database}'`, breaks: ['pg-db'] });
    } else if (pg.ordersTable === false && !broken.has('listening:order-service')) {
      out.push({
        id: 'orders-table-missing',
        cause: `database ${pg.database} at ${pg.host} has no orders table: the order service creates it when it starts (init_db), and has not`,
        fix: `${psql} -d ${pg.database} -c 'CREATE TABLE IF NOT EXISTS orders (id SERIAL PRIMARY KEY, customer_id VARCHAR(100), product_id VARCHAR(100), quantity INTEGER, total_price DECIMAL(10, 2), created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)'`,
        breaks: ['pg-table'],
      });
    } else if (pg.ordersColumns && SEED_COLUMNS.join() !== pg.ordersColumns.join()) {
      const missing = SEED_COLUMNS.filter((c) => !pg.ordersColumns!.includes(c));
      const extra = pg.ordersColumns.filter((c) => !SEED_COLUMNS.includes(c));
      out.push({
        id: 'orders-columns-differ',
        cause: `the orders table in ${pg.database} at ${pg.host} has the columns ${pg.ordersColumns.join(', ')}, not the seed's ${SEED_COLUMNS.join(', ')}${missing.length ? ` (missing ${missing.join(', ')}${extra.length ? `; instead ${extra.join(', ')}` : ''})` : ''}: the seed's SELECT reads them by name`,
        fix: `${missing.length && extra.length === missing.length ? missing.map((c, i) => `${psql} -d ${pg.database} -c 'ALTER TABLE orders RENAME COLUMN ${extra[i]} TO ${c}'`).join(' && ') : `recreate the table with the seed's schema (init_db)`}, and use the seed's column names in the order service`,
        breaks: ['pg-columns'],
      });
    }
  }
  const r = ctx.facts.redis;
  const redisPath = [...(ctx.redis.onHost ? [] : ends(ctx.redis.ns)), 'bridge', 'bridge-ip', 'redis-running', 'redis-listen', 'redis-open'];
  if (r && ctx.redis.at && redisPath.every((k) => !broken.has(k))) {
    if (r.reachable === false) {
      const denied = /DENIED|protected mode/i.test(r.error ?? '');
      out.push(
        denied
          ? {
              id: 'redis-protected-mode',
              cause: `Redis at ${r.host}:${r.port} is in protected mode: it refuses clients from other addresses`,
              fix: inNs('redis-cache', 'redis-cli CONFIG SET protected-mode no'),
              breaks: ['redis-reach'],
            }
          : { id: 'redis-unreachable', cause: `the host cannot use Redis at ${r.host}:${r.port}: ${r.error ?? 'no answer'}`, fix: `redis-cli -h ${r.host} -p ${r.port} PING`, breaks: ['redis-reach'] },
      );
    } else if (r.allProducts === false && clear('2.3-product-reaches-redis', ['cache-write'])) {
      out.push({
        id: 'product-cache-unused',
        cause: `Redis at ${r.host}:${r.port} holds no ${cache.allKey} after GET /api/products: the product service does not cache there`,
        fix: `cache = redis.Redis(host='${r.host}', port=${r.port}) in the product service, then restart it: ${startCommand(ctx, 'product-service')}`,
        breaks: ['cache-write'],
      });
    } else if (r.allProducts && r.allProductsTtl === -1) {
      out.push({
        id: 'product-cache-no-ttl',
        cause: `${cache.allKey} in Redis has no TTL: the product service stores it with SET, not SETEX ${cache.ttlSeconds}`,
        fix: `cache.setex('${cache.allKey}', ${cache.ttlSeconds}, json.dumps(products)) in the product service, then: redis-cli -h ${r.host} DEL ${cache.allKey}`,
        breaks: ['cache-write'],
      });
    }
  }
  return out;
}
