import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allurePrerequisiteProblem } from '../../src/report/allure.ts';
import { reportPaths } from '../../src/report/paths.ts';

const made: string[] = [];

function project(withResults: boolean, withCli: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'ecomnet-allure-'));
  made.push(root);
  const p = reportPaths(root);
  if (withResults) {
    mkdirSync(p.allureResults, { recursive: true });
    writeFileSync(join(p.allureResults, 'x-result.json'), '{}');
  }
  if (withCli) {
    mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(root, 'node_modules', '.bin', 'allure'), '');
  }
  return root;
}

describe('allurePrerequisiteProblem', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it('asks for a test run when there are no results', () => {
    const root = project(false, true);
    expect(allurePrerequisiteProblem(reportPaths(root), root)).toMatch(/no Allure results .* run the tests first/);
  });

  it('asks for npm ci when the CLI is not installed', () => {
    const root = project(true, false);
    expect(allurePrerequisiteProblem(reportPaths(root), root)).toMatch(/allure-commandline is not installed/);
  });

  it('explains a missing Java instead of crashing', () => {
    vi.stubEnv('JAVA_HOME', '/nonexistent-java-home');
    const root = project(true, true);
    expect(allurePrerequisiteProblem(reportPaths(root), root)).toMatch(/^Java was not found/);
  });
});
