/**
 * `node src/report/allure.ts`: builds the single-file Allure report (reports/allure/index.html)
 * from reports/allure-results. Allure's generator is Java; without it this says so and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { reportPaths, type ReportPaths } from './paths.ts';

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Why the report cannot be built here, or undefined when it can. */
export function allurePrerequisiteProblem(paths: ReportPaths, root: string): string | undefined {
  if (!existsSync(paths.allureResults) || readdirSync(paths.allureResults).length === 0) {
    return `no Allure results in ${paths.allureResults}: run the tests first (npm test)`;
  }
  if (!existsSync(join(root, 'node_modules', '.bin', 'allure'))) {
    return 'allure-commandline is not installed: run npm ci';
  }
  const java = spawnSync(javaBinary(), ['-XX:-UsePerfData', '-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    return 'Java was not found, and the Allure generator needs it: install a JRE (apt-get install default-jre-headless) or set JAVA_HOME. reports/deliverables.html does not need Java.';
  }
  return undefined;
}

export function generateAllure(root: string = process.cwd()): number {
  const paths = reportPaths(root);
  const problem = allurePrerequisiteProblem(paths, root);
  if (problem) {
    console.error(`allure: ${problem}`);
    return 1;
  }
  const bin = join(root, 'node_modules', '.bin', 'allure');
  const r = spawnSync(bin, ['generate', '--single-file', '--clean', paths.allureResults, '-o', paths.allureDir], {
    stdio: 'inherit',
    // Java would otherwise leave /tmp/hsperfdata_<user> behind, which outlives an account CI removes.
    env: { ...process.env, ALLURE_OPTS: `${process.env.ALLURE_OPTS ?? ''} -XX:-UsePerfData`.trim() },
  });
  if (r.status !== 0) {
    console.error(`allure: generate exited ${r.status ?? r.signal}`);
    return 1;
  }
  console.log(`allure: ${paths.allureHtml}`);
  return 0;
}

if (import.meta.main) process.exitCode = generateAllure();
