/**
 * The grader project's global setup: starts the mutation run at once, beside everything else
 * (its builds live in virtual hosts, so the platform suites on the real host never see them), and
 * waits for it at the end of the run. suites/grader/mutation.test.ts judges what it wrote.
 */
import { installPackages, missingLearnerPackages } from '../src/host/doctor.ts';
import { runMutants } from './mutants.ts';

/** The learner's build never uses ecomnet's data layer: a containers-mode run would repeat the native one's mutants. */
export const repeatsNative = process.env.ECOMNET_DATA === 'containers';

export default async function setup() {
  if (repeatsNative) return;
  const started = performance.now();
  const say = (line: string) => console.log(`[mutation] ${line}`);
  await installPackages(await missingLearnerPackages(), "the learner's Flask services", say);
  const run = runMutants((line) => console.log(`[mutation] ${line}`)).then(
    (r) => console.log(r ? `[mutation] ${r.rows.length} builds graded in ${((performance.now() - started) / 1000).toFixed(0)} s` : '[mutation] not run: no virtual hosts on this machine'),
    (e: Error) => console.error(`[mutation] the run failed: ${e.message}`),
  );
  return () => run;
}
