/**
 * The readiness (src/net/readiness.ts) of each component of ecomnet's own platform: asked at its
 * node's address, or where containers mode publishes a data server, with the run's logins. Start
 * (and so restart and the supervisor) asks the data servers as their superuser, the only role
 * there is before start provisions the others; a look (`status`) as the operator's read-only role,
 * through `trust`: the login the handshake hands over, so a stranger on the address gets nothing.
 */
import { dataAddress, nodeOf } from '../topology/default.ts';
import { ORDERS_DATABASE, READER_ROLE } from '../data/postgres.ts';
import { type Login, type Readiness, readinessOf, type Trust } from '../net/readiness.ts';
import type { Component, DataMode, Topology } from '../topology/types.ts';
import type { Secrets } from './secrets.ts';

export type Asker = 'start' | 'look';

function loginOf(c: Component, secrets: Secrets | undefined, as: Asker): Omit<Login, 'host' | 'port'> | undefined {
  if (c === 'redis') return { user: 'default', ...(secrets ? { password: secrets.redis } : {}) };
  if (c !== 'postgres') return undefined;
  const role = as === 'start' ? { user: 'postgres', password: secrets?.postgres } : { user: READER_ROLE, password: secrets?.reader };
  return { user: role.user, database: ORDERS_DATABASE, ...(role.password === undefined ? {} : { password: role.password }) };
}

/** Undefined for a component that serves nothing (the external client). */
export function platformReadiness(c: Component, t: Topology, o: { data: DataMode; secrets: Secrets | undefined; as: Asker; trust?: Trust }): Readiness | undefined {
  const data = c === 'postgres' || c === 'redis';
  const login = loginOf(c, o.secrets, o.as);
  return readinessOf(nodeOf(c, t), { ...(data ? { at: dataAddress(c, o.data, t) } : {}), ...(login ? { login } : {}), ...(o.trust ? { trust: o.trust } : {}) });
}
