import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgpassLine } from '../../src/data/postgres.ts';
import { seedLogin } from '../../src/grader/contract.ts';
import { run } from '../../src/host/exec.ts';
import { readState } from '../../src/host/state.ts';
import { recordEvidence, registerSecrets, type Captured } from './evidence.ts';
import { type Login, pgLogin, redisLogin } from './live.ts';
import { runDir } from './platform.ts';

// The seed's own password is public (and a word the evidence must keep: the server is named postgres).
registerSecrets([pgLogin.password, redisLogin.password].filter((p) => p !== seedLogin.password));

/** A word as a shell needs it, so a recorded command can be pasted back. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`);

/**
 * A data client run on the host as the current user (the bridge routes to the servers), recorded
 * as it ran. The password is in no command line and no environment (/proc shows both): psql
 * reads it from a 0600 file in a directory of our own, redis-cli from its standard input.
 */
async function client(argv: string[], how: { env?: Record<string, string>; input?: string }): Promise<Captured> {
  const at = new Date().toISOString();
  const r = await run(argv, { allowFail: true, timeoutMs: 30_000, ...how });
  const env = Object.entries(how.env ?? {}).map(([k, v]) => `${k}=${v} `);
  return recordEvidence({ ...r, command: `${env.join('')}${argv.map(shellWord).join(' ')}`, at });
}

/** The seed's `psql -U postgres -d orders -h HOST -c "QUERY"`; flags (-At, -F,) go before -c. */
export function sql(query: string, ...flags: string[]): Promise<Captured> {
  return sqlAs(pgLogin, query, ...flags);
}

/** The same as another login: e.g. the order service's role, for the tables only it may read. */
export async function sqlAs(l: Login, query: string, ...flags: string[]): Promise<Captured> {
  const argv = ['psql', '-U', l.user, '-d', l.database ?? 'postgres', '-h', l.host, '-p', String(l.port), '-w', ...flags, '-c', query];
  if (l.password === undefined) return client(argv, {});
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-pgpass-'));
  try {
    const file = join(dir, 'pgpass');
    writeFileSync(file, pgpassLine(l.user, l.password), { mode: 0o600, flag: 'wx' });
    return await client(argv, { env: { PGPASSFILE: file } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `redis-cli -h HOST -p PORT ARGS...` against the platform's Redis (`--askpass`: the password on its standard input). */
export function redisCommand(...args: string[]): Promise<Captured> {
  const l = redisLogin;
  const at = ['-h', l.host, '-p', String(l.port)];
  return l.password === undefined ? client(['redis-cli', ...at, ...args], {}) : client(['redis-cli', '--askpass', ...at, ...args], { input: `${l.password}\n` });
}

/** The pid ecomnet recorded for one of its services: what `ss -p` must show as the listener. */
export function servicePid(name: string): number {
  const rec = readState(runDir)?.services.find((s) => s.name === name);
  if (!rec) throw new Error(`${name} is not recorded as running`);
  return rec.pid;
}
