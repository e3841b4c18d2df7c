import { defineConfig } from 'vitest/config';
import { TEST_DATA_ROOT } from './src/host/run-dir.ts';
import { deliverables } from './src/report/deliverables.ts';
import { allureEnvironment } from './src/report/environment.ts';
import { reportPaths } from './src/report/paths.ts';
import DeliverablesReporter from './src/report/reporter.ts';

/**
 * ECOMNET_TARGET=existing (what `ecomnet verify` runs): the deliverable suites judge whatever
 * platform stands on the host, built by anyone; nothing is built or removed, and the suites that
 * build, break or grade platforms of their own stay out.
 */
const existing = process.env.ECOMNET_TARGET === 'existing';
// The test run's platforms keep their data apart from the user's, set here so the global setup,
// the workers and the CLIs they run all see it.
if (!existing) process.env.ECOMNET_DATA_DIR = TEST_DATA_ROOT;
const paths = reportPaths();
/**
 * verify's workers: three by default (beyond, a broken build's timeouts overlap no more and each
 * worker costs its own imports); ECOMNET_VERIFY_WORKERS=1 judges one file at a time, as the bench's baseline.
 */
const VERIFY_WORKERS = verifyWorkers(process.env.ECOMNET_VERIFY_WORKERS);

function verifyWorkers(given: string | undefined): number {
  if (given === undefined || given === '') return 3;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`ECOMNET_VERIFY_WORKERS=${given}: a whole number of workers from 1 to 16`);
  return n;
}
const gradedSuites = [...new Set(deliverables.flatMap((d) => d.suites))].filter((f) => !f.startsWith('suites/containers/'));

export default defineConfig({
  test: {
    reporters: [
      // First: it clears the previous run's evidence and allure-results when the run starts, and
      // masks the run's secrets in the errors the others print and write.
      new DeliverablesReporter(),
      'default',
      ['allure-vitest/reporter', { resultsDir: paths.allureResults, environmentInfo: allureEnvironment() }],
      ['junit', { outputFile: paths.junit }],
      ...(process.env.GITHUB_ACTIONS ? ['github-actions'] : []),
    ],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['suites/unit/**/*.test.ts', 'suites/app/**/*.test.ts', 'suites/report/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Every core (Vitest's default leaves one idle: a single worker on 2 cores). A group has one
          // worker count, so this project and the single-worker platform one are groups of their own.
          maxWorkers: '100%',
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'platform',
          include: existing ? gradedSuites : ['suites/phase1/**/*.test.ts', 'suites/phase2/**/*.test.ts', 'suites/containers/**/*.test.ts', 'suites/ci/**/*.test.ts', 'suites/faults/**/*.test.ts'],
          globalSetup: [existing ? 'setup/verify-setup.ts' : 'setup/global-setup.ts'],
          // verify: the files of a worker share one module graph, so each worker discovers the host once.
          isolate: !existing,
          // npm test: one platform on one host, which the suites start, break and stop, so files take
          // turns. verify only probes: its files wait on the network side by side, and a broken build's
          // timeouts overlap instead of adding up (ip_forward off: 32 s with one worker, 10 s with three).
          // Group 1, first: Vitest runs a single-worker project left at group 0 after every numbered group.
          maxWorkers: existing ? VERIFY_WORKERS : 1,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      // Mutation testing of the grader: learner builds of the seed's names, so after the platform
      // group, on a host its tests have left (they stop ecomnet's platform first).
      ...(existing
        ? []
        : [
            {
              test: {
                name: 'grader',
                include: ['suites/grader/**/*.test.ts'],
                maxWorkers: 1,
                sequence: { groupOrder: 3 },
                testTimeout: 120_000,
                hookTimeout: 120_000,
              },
            },
          ]),
    ],
  },
});
