import { defineConfig } from 'vitest/config';
import { allureEnvironment } from './src/report/environment.ts';
import DeliverablesReporter from './src/report/reporter.ts';

export default defineConfig({
  test: {
    reporters: [
      'default',
      // Before Allure: it clears the previous run's evidence and allure-results when the run starts.
      new DeliverablesReporter(),
      ['allure-vitest/reporter', { resultsDir: 'reports/allure-results', environmentInfo: allureEnvironment() }],
      ['junit', { outputFile: 'reports/junit.xml' }],
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
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'platform',
          include: ['suites/phase1/**/*.test.ts', 'suites/phase2/**/*.test.ts', 'suites/containers/**/*.test.ts', 'suites/ci/**/*.test.ts'],
          globalSetup: ['setup/global-setup.ts'],
          // One platform on one host: files take turns, tests inside a file run their pings in parallel.
          maxWorkers: 1,
          sequence: { groupOrder: 0 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
