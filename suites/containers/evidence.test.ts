import { describe, expect, it } from 'vitest';
import { nodeOf, publishedAt, topology } from '../../src/topology/default.ts';
import { containerName, labelFilter } from '../../src/runtime/engine.ts';
import { imageFor } from '../../src/runtime/images.ts';
import type { DataComponent } from '../../src/topology/types.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { tcpProbe } from '../support/checks.ts';
import { redisCommand, sql } from '../support/data.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { containersMode } from '../support/mode.ts';

const on = containersMode('suites/containers/evidence');
const label = labelFilter(topology.tag);
const pg = publishedAt('postgres');
const redis = publishedAt('redis');
const order = nodeOf('order');
const product = nodeOf('product');
const published = (at: { host: string; port: number }) => `${at.host}:${at.port}`;

/** `docker ps` filtered by our label, as the seed's `docker ps` shows its postgres container. */
async function dockerPs() {
  const r = await recordedShell(`docker ps --filter label=${label}`);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').slice(1);
}

/** Published on the bridge gateway only: `docker port` names one binding, and no wildcard listener has the port. */
async function publishedOnGatewayOnly(c: DataComponent, at: { host: string; port: number }) {
  const port = await recordedShell(`docker port ${containerName(topology.tag, c)}`);
  expect(port.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^\\d+/tcp -> ${escapeRegExp(published(at))}$`))]);
  const ss = await recordedShell(`ss -Hlntp 'sport = :${at.port}'`);
  for (const line of ss.stdout.trim().split('\n').filter(Boolean)) expect(line.split(/\s+/)[3]).toBe(published(at));
}

describe.skipIf(!on)("2.3/2.4 data layer as containers, reached at the bridge gateway as in the seed's docker run -p", () => {
  it('PostgreSQL runs as a container (docker ps, filtered by our label)', async () => {
    deliverable('2.4-postgres-running');
    const lines = await dockerPs();
    expect(lines).toHaveLength(2);
    const line = lines.find((l) => l.includes(containerName(topology.tag, 'postgres')));
    expect(line).toContain(imageFor('postgres'));
    expect(line).toContain(`${published(pg)}->`);
    expect(line).toMatch(/\bUp\b/);
  });

  it(`PostgreSQL is published on ${published(pg)} and nowhere else`, async () => {
    deliverable('2.4-postgres-listening');
    await publishedOnGatewayOnly('postgres', pg);
  });

  it(`order-service reaches PostgreSQL (nc -zv ${pg.host} ${pg.port})`, async () => {
    deliverable('2.4-order-reaches-postgres');
    const r = await tcpProbe(order.name, pg.host, pg.port);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it(`Redis is published on ${published(redis)} and nowhere else`, async () => {
    deliverable('2.3-redis-listening');
    const line = (await dockerPs()).find((l) => l.includes(containerName(topology.tag, 'redis')));
    expect(line).toContain(imageFor('redis'));
    expect(line).toContain(`${published(redis)}->`);
    await publishedOnGatewayOnly('redis', redis);
  });

  it(`product-service reaches Redis (nc -zv ${redis.host} ${redis.port})`, async () => {
    deliverable('2.3-product-reaches-redis');
    const r = await tcpProbe(product.name, redis.host, redis.port);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded|open/);
  });

  it("both ask for the run's passwords: the right one works, none or a wrong one does not", async () => {
    // In containers mode the clients reach the published addresses, pg and redis here.
    expect((await sql('SELECT 1;')).exitCode).toBe(0);
    const wrongPg = await recordedShell(`PGPASSWORD=wrong psql -U postgres -d orders -h ${pg.host} -p ${pg.port} -c 'SELECT 1;'`);
    expect(wrongPg.stderr).toMatch(/password authentication failed/);
    expect((await redisCommand('PING')).stdout.trim()).toBe('PONG');
    const noAuth = await recordedShell(`redis-cli -h ${redis.host} -p ${redis.port} GET all_products`);
    expect(noAuth.stdout + noAuth.stderr).toMatch(/NOAUTH/);
  });
});
