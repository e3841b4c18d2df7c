import { inject } from 'vitest';
import { dataAddress, nodeOf } from '../../fixtures/topology.ts';
import { readState } from '../../src/host/state.ts';
import { readSecrets } from '../../src/runtime/services.ts';

/** Connection details of the running platform's data layer, for the operator's own tools (psql, redis-cli). */
export function secrets() {
  const s = readSecrets();
  if (!s) throw new Error('no secrets.json: is the platform up?');
  return s;
}

export const pg = nodeOf('postgres');
export const redis = nodeOf('redis');

// Where the clients find the servers: their namespaces, or the bridge gateway in containers mode.
const pgAt = dataAddress('postgres', inject('platform').data);
const redisAt = dataAddress('redis', inject('platform').data);

/** The seed's `psql -U postgres -d orders -h ... -c "..."`, with the per-run password (redacted in reports). */
export function psql(sql: string, host = pgAt.host, port = pgAt.port): string {
  return `PGPASSWORD='${secrets().postgres}' psql -U postgres -d orders -h ${host} -p ${port} -c "${sql}"`;
}

export function redisCli(args: string, host = redisAt.host, port = redisAt.port): string {
  return `redis-cli -h ${host} -p ${port} -a '${secrets().redis}' --no-auth-warning ${args}`;
}

/** The pid the platform recorded for a service: what `ss -p` must show as the listener. */
export function servicePid(name: string): number {
  const rec = readState()?.services.find((s) => s.name === name);
  if (!rec) throw new Error(`${name} is not recorded as running`);
  return rec.pid;
}
