import { defineConfig } from 'vitest/config';
import { TEST_DATA_ROOT } from './src/host/run-dir.ts';
import { allureEnvironment } from './src/report/environment.ts';
import { reportPaths } from './src/report/paths.ts';
import DeliverablesReporter from './src/report/reporter.ts';

// The test run's platforms keep their data apart from the user's, set here so the global setup,
// the workers and the CLIs they run all see it.
process.env.ECOMNET_DATA_DIR = TEST_DATA_ROOT;
const paths = reportPaths();

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
          include: ['suites/unit/**/*.test.ts', 'suites/app/**/*.test.ts', 'suites/report/**/*.test.ts', 'suites/vhost/**/*.test.ts'],
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
          include: ['suites/phase1/**/*.test.ts', 'suites/phase2/**/*.test.ts', 'suites/containers/**/*.test.ts', 'suites/ci/**/*.test.ts', 'suites/faults/**/*.test.ts'],
          globalSetup: ['setup/global-setup.ts'],
          // One platform on one host, which the suites start, break and stop, so files take turns.
          // Group 1, first: Vitest runs a single-worker project left at group 0 after every numbered group.
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      // Mutation testing of the grader: its run starts with the test run (its global setup) and goes
      // on beside the platform suites, every mutant in a virtual host; its judging comes last.
      {
        test: {
          name: 'mutation',
          include: ['suites/grader/mutation.test.ts'],
          globalSetup: ['setup/mutation-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
          testTimeout: 120_000,
          hookTimeout: 900_000,
        },
      },
      // The grader on the real host: its probe after a kill -9 (it stops ecomnet's platform first).
      {
        test: {
          name: 'grader',
          include: ['suites/grader/**/*.test.ts'],
          exclude: ['suites/grader/mutation.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
