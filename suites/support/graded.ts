/**
 * The grader's own checks (src/grader/checks) as Vitest tests on the platform npm test built: the
 * deliverables are proven by the same code that `ecomnet verify` runs on anyone's build, each
 * check a test tagged with its deliverable, its commands recorded as the evidence.
 */
import { it } from 'vitest';
import { checks, runChecks } from '../../src/grader/grade.ts';
import type { Check } from '../../src/grader/checks/trial.ts';
import { deliverable, recordEvidence } from './evidence.ts';
import { lab, reads } from './live.ts';

/** A test per check whose id starts with one of `prefixes` (a deliverable id, or `<id>/<what>`), in the catalogue's order. */
export function checksOf(...prefixes: string[]): Check[] {
  const found = checks.filter((c) => prefixes.some((p) => c.id === p || c.id.startsWith(`${p}/`)));
  if (!found.length) throw new Error(`no check starts with ${prefixes.join(', ')}`);
  return found;
}

/** Each check as a test (side by side with `concurrent`); a check the grader could not judge fails here: npm test's platform has every tool. */
export function judged(list: Check[], o: { concurrent?: boolean } = {}): void {
  for (const c of list) {
    (o.concurrent ? it.concurrent : it)(c.title, async () => {
      deliverable(c.deliverable);
      const [outcome] = await runChecks([c], await lab);
      // What discovery read is the live diagram's evidence: the picture is drawn from it.
      for (const e of [...(c.id === '1.2-diagram' ? reads : []), ...outcome!.evidence]) recordEvidence(e);
      if (outcome!.verdict !== 'pass') throw new Error(`${outcome!.verdict}: ${outcome!.reason}`);
    });
  }
}
