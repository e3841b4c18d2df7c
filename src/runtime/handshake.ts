/**
 * ecomnet's side of grading its own platform: the run's logins (PostgreSQL as the read-only
 * operator role, Redis with its password), handed to the grader only while the platform recorded
 * in the run directory is the one serving. Its supervisor must be the process recorded, alive, and
 * the data servers the grader found listening must be the ones this platform started (their pids
 * and start times, or its containers): a state file left by a crash, or planted, names processes
 * that are gone or not those, and is ignored. The grader itself reads no state of ours.
 */
import { READER_ROLE } from '../data/postgres.ts';
import { discover } from '../grader/discover.ts';
import { listener, namespaceOf, postgresAt, redisAt } from '../grader/find.ts';
import { type Credentials, type Login, loginUrl, pgLogin, redisLogin } from '../grader/logins.ts';
import type { HostModel } from '../grader/model.ts';
import { sameProcess } from '../host/proc.ts';
import type { RunDir } from '../host/run-dir.ts';
import { readState, type State } from '../host/state.ts';
import { readSecrets } from './secrets.ts';

/** Is the server the grader found for `component` the one this platform started? */
function ours(state: State, model: HostModel, component: 'postgres' | 'redis'): boolean {
  const at = component === 'postgres' ? postgresAt(model) : redisAt(model);
  if (!at) return false;
  if (at.where === 'container')
    return state.containers.length > 0 && model.containers?.some((c) => c.name === at.by && state.containers.some((id) => c.id.startsWith(id) || id.startsWith(c.id))) === true;
  const rec = state.services.find((s) => s.name === component);
  if (!rec || !sameProcess(rec)) return false;
  const ns = namespaceOf(model, rec.ns) ? rec.ns : undefined;
  return listener(model, ns, at.port)?.pid === rec.pid;
}

/** The run's logins, as URLs for the grader, when the platform recorded in `dir` is the one up now; else undefined (the seed's logins apply). */
export function handshakeLogins(dir: RunDir, model: HostModel): Credentials | undefined {
  const state = readState(dir);
  if (state?.phase !== 'up' || !state.supervisor || !sameProcess(state.supervisor)) return undefined;
  const secrets = readSecrets(dir);
  if (!secrets) return undefined;
  return {
    ...(ours(state, model, 'postgres') ? { pgUrl: loginUrl('postgres', { ...pgLogin(model, ''), user: READER_ROLE, password: secrets.reader }) } : {}),
    ...(ours(state, model, 'redis') ? { redisUrl: loginUrl('redis', { ...redisLogin(model, ''), password: secrets.redis }) } : {}),
  };
}

/** Does a handed URL name this login's server and secret? */
function names(url: string | undefined, l: Login): boolean {
  if (!url) return false;
  const u = new URL(url);
  return u.hostname === l.host && Number(u.port) === l.port && decodeURIComponent(u.password) === l.password;
}

/**
 * Asked on a connection already open, just before a password goes out on it: a login carrying
 * one of the run's secrets passes only if the live host, read now, shows the server at its
 * address to be one this platform started (the handshake's test). Logins are kept between
 * discoveries, and a server held down or crashed frees its address: in containers mode the
 * bridge address, where any local user may listen on 5432 or 6379. Any other login (the seed's
 * public one, a URL the user gave) is the user's to send.
 */
export async function mayReceive(dir: RunDir, login: Login, readHost: () => Promise<HostModel> = discover): Promise<boolean> {
  const secrets = readSecrets(dir);
  if (login.password === undefined || !secrets || !Object.values(secrets).includes(login.password)) return true;
  const handed = handshakeLogins(dir, await readHost());
  return names(handed?.pgUrl, login) || names(handed?.redisUrl, login);
}
