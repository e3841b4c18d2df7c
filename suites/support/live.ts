/**
 * What the platform suites know of the platform npm test built, read from the live host once per
 * worker (never from ecomnet's plan or state): the model the grader's checks judge, the bridge
 * the six namespaces hang on, where the data layer lives and how to log in to it (the logins the
 * global setup handed over), and the outside segment the checks stand in.
 */
import { inject } from 'vitest';
import type { Lab } from '../../src/grader/checks/trial.ts';
import { bridge as seedBridge } from '../../src/grader/contract.ts';
import { discover } from '../../src/grader/discover.ts';
import { appBridge, postgresAt } from '../../src/grader/find.ts';
import { judgeRules, realUplink } from '../../src/grader/judge.ts';
import { type Login, pgLogin as pgLoginOf, redisLogin as redisLoginOf } from '../../src/grader/logins.ts';
import { probeVantage } from '../../src/grader/vantage.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import type { Captured } from '../../src/report/types.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's logins as URLs, handed over by the global setup (ecomnet's handshake). */
    logins: { pgUrl?: string; redisUrl?: string };
  }
}

/** What discovery read: the live diagram's evidence. */
export const reads: Captured[] = [];
export const model = await discover((c) => reads.push(c));

/** ecomnet's platform declares the grader's outside segment: the checks stand there. */
export const judgement = judgeRules(model, probeVantage);
export const outside = judgement.outside;
/** The host's real uplink (its default route), when it has one. */
export const uplinkDev: string | undefined = realUplink(model);

/** The bridge the six namespaces' peers hang on, whatever it is called (the seed's br-app if none is found). */
export const appBr = appBridge(model)?.name ?? seedBridge.name;

const given = inject('logins') ?? {};
export const pgLogin = pgLoginOf(model, given.pgUrl);
export const redisLogin = redisLoginOf(model, given.redisUrl);
export const pgWhere = postgresAt(model)?.where;
export type { Login };

/** What the grader's checks work with, as `ecomnet verify` would build it on this host. */
export const lab: Promise<Lab> = detectBackend().then((b) => ({
  model,
  judgement,
  vantage: probeVantage,
  pg: pgLogin,
  redis: redisLogin,
  iptables: { save: b.save, list: b.iptables },
  shared: new Map(),
}));
