/**
 * ecomnet's side of grading its own platform: the run's logins (PostgreSQL as the read-only
 * operator role, Redis with its password), handed to the grader only while the platform recorded
 * in the run directory is the one serving. Its supervisor must be the process recorded, alive, and
 * the data servers the grader found listening must be the ones this platform started (their pids
 * and start times, or its containers): a state file left by a crash, or planted, names processes
 * that are gone or not those, and is ignored. The grader itself reads no state of ours.
 */
import { READER_ROLE } from '../data/postgres.ts';
import { listener, namespaceOf, postgresAt, redisAt } from '../grader/find.ts';
import { type Credentials, loginUrl, pgLogin, redisLogin } from '../grader/logins.ts';
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
