import { dataAddress, nodeOf } from '../../fixtures/topology.ts';
import { run } from '../../src/host/exec.ts';
import { readState } from '../../src/host/state.ts';
import { readSecrets } from '../../src/runtime/secrets.ts';
import { recordEvidence, type Captured } from './evidence.ts';
import { platformInfo, runDir } from './platform.ts';

/** Connection details of the running platform's data layer, for the operator's own tools (psql, redis-cli). */
export function secrets() {
  const s = readSecrets(runDir);
  if (!s) throw new Error('no secrets.json: is the platform up?');
  return s;
}

export const pg = nodeOf('postgres');
export const redis = nodeOf('redis');

/** Where the clients find the servers: their namespaces, or the bridge gateway in containers mode. */
export const pgAt = dataAddress('postgres', platformInfo().data);
export const redisAt = dataAddress('redis', platformInfo().data);

/** A word as a shell needs it, so a recorded command can be pasted back. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`);

/**
 * A data client run on the host as the current user (the bridge routes to the servers), its
 * password in the environment variable the client reads, so it is in no command line and no
 * process listing; recorded with the variable named and its value masked.
 */
async function client(argv: string[], passwordVar: string, password: string): Promise<Captured> {
  const at = new Date().toISOString();
  const r = await run(argv, { allowFail: true, timeoutMs: 30_000, env: { [passwordVar]: password } });
  return recordEvidence({ ...r, command: `${passwordVar}=******** ${argv.map(shellWord).join(' ')}`, at });
}

/** The seed's `psql -U postgres -d orders -h HOST -c "QUERY"`; flags (-At, -F,) go before -c. */
export function sql(query: string, ...flags: string[]): Promise<Captured> {
  return client(['psql', '-U', 'postgres', '-d', 'orders', '-h', pgAt.host, '-p', String(pgAt.port), ...flags, '-c', query], 'PGPASSWORD', secrets().postgres);
}

/** `redis-cli -h HOST -p PORT ARGS...` against the platform's Redis. */
export function redisCommand(...args: string[]): Promise<Captured> {
  return client(['redis-cli', '-h', redisAt.host, '-p', String(redisAt.port), ...args], 'REDISCLI_AUTH', secrets().redis);
}

/** The pid the platform recorded for a service: what `ss -p` must show as the listener. */
export function servicePid(name: string): number {
  const rec = readState(runDir)?.services.find((s) => s.name === name);
  if (!rec) throw new Error(`${name} is not recorded as running`);
  return rec.pid;
}
