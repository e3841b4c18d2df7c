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
 * A data client run on the host as the current user (the bridge routes to the servers), its
 * password in the environment variable the client reads, so it is in no command line and no
 * process listing; recorded with the variable named and its value masked.
 */
async function client(argv: string[], passwordVar: string, login: Login): Promise<Captured> {
  const at = new Date().toISOString();
  const env = login.password ? { [passwordVar]: login.password } : undefined;
  const r = await run(argv, { allowFail: true, timeoutMs: 30_000, env });
  return recordEvidence({ ...r, command: `${env ? `${passwordVar}=******** ` : ''}${argv.map(shellWord).join(' ')}`, at });
}

/** The seed's `psql -U postgres -d orders -h HOST -c "QUERY"`; flags (-At, -F,) go before -c. */
export function sql(query: string, ...flags: string[]): Promise<Captured> {
  const l = pgLogin;
  return client(['psql', '-U', l.user, '-d', l.database ?? 'postgres', '-h', l.host, '-p', String(l.port), '-w', ...flags, '-c', query], 'PGPASSWORD', l);
}

/** `redis-cli -h HOST -p PORT ARGS...` against the platform's Redis. */
export function redisCommand(...args: string[]): Promise<Captured> {
  const l = redisLogin;
  return client(['redis-cli', '-h', l.host, '-p', String(l.port), ...args], 'REDISCLI_AUTH', l);
}

/** The pid ecomnet recorded for one of its services: what `ss -p` must show as the listener. */
export function servicePid(name: string): number {
  const rec = readState(runDir)?.services.find((s) => s.name === name);
  if (!rec) throw new Error(`${name} is not recorded as running`);
  return rec.pid;
}
