/** The live host for npm test's report: the diagram, its differences from the contract, and why deliverables failed. */
import { deviations, diagnose, gatherServiceFacts } from '../grader/diagnose.ts';
import { diagramFindings, liveDiagramSvg } from '../grader/live-diagram.ts';
import { discover } from '../grader/discover.ts';
import { judgeRules } from '../grader/judge.ts';
import { pgLogin, redisLogin } from '../grader/logins.ts';
import { probeVantage } from '../grader/vantage.ts';
import { runDirAt } from '../host/run-dir.ts';
import { handshakeLogins } from '../runtime/handshake.ts';
import type { LiveHost } from './types.ts';

export async function inspectHost(failing: string[], runDir: string | undefined): Promise<LiveHost> {
  const model = await discover();
  const logins = handshakeLogins(runDirAt(runDir), model);
  const facts = await gatherServiceFacts(model, { pg: pgLogin(model, logins?.pgUrl), redis: redisLogin(model, logins?.redisUrl) });
  // ecomnet's platform declares the grader's outside segment: rules are judged for the packets sent from there.
  const judgement = judgeRules(model, probeVantage);
  return {
    svg: liveDiagramSvg(model, judgement),
    findings: diagramFindings(model, judgement),
    diagnoses: failing.length ? diagnose(model, judgement, facts) : [],
    deviations: deviations(model, judgement, facts),
    advice: judgement.advice,
  };
}
