/** The live host for the report: discovery's diagram, its differences from the contract, and why deliverables failed. */
import { discover } from '../grader/discover.ts';
import { diagramFindings, liveDiagramSvg } from '../grader/diagram.ts';
import { advice, deviations, diagnose, gatherServiceFacts } from '../grader/diagnose.ts';
import { ecomnetSecrets, pgLogin, redisLogin } from '../grader/logins.ts';
import { outsideOfHost } from '../grader/rules.ts';
import { runDirAt } from '../host/run-dir.ts';
import type { LiveHost } from './types.ts';

export async function inspectHost(failing: string[], runDir: string | undefined): Promise<LiveHost> {
  const model = await discover();
  const dir = runDirAt(runDir);
  const secrets = ecomnetSecrets(dir);
  const facts = await gatherServiceFacts(model, { pg: pgLogin(model, secrets), redis: redisLogin(model, secrets) });
  // Where the grader's own outside is: rules are judged for the packets it sends.
  const vantage = outsideOfHost(model);
  return {
    svg: liveDiagramSvg(model),
    findings: diagramFindings(model),
    diagnoses: failing.length ? diagnose(model, facts, vantage) : [],
    deviations: deviations(model, facts, vantage),
    advice: advice(model),
  };
}
