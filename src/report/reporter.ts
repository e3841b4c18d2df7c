/**
 * Vitest reporter that turns a run into the deliverables report: it joins every test's result
 * with the evidence the suites captured and writes reports/deliverables.html and results.json.
 * List it before allure-vitest/reporter: its onInit clears the previous run's evidence and
 * Allure results, and Allure writes its environment file in its own onInit.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { SerializedError, TestError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestRunEndReason, Vitest } from 'vitest/node';
import { topology } from '../../fixtures/topology.ts';
import { readArtifacts, readEvidence } from './artifacts.ts';
import { deliverables } from './deliverables.ts';
import { reportPaths, type ReportPaths } from './paths.ts';
import { renderDeliverables } from './render.ts';
import { buildResults, countByStatus, resultsJson } from './results.ts';
import type { TestOutcome } from './types.ts';

function errorText(e: TestError | SerializedError): string {
  const diff = 'diff' in e && e.diff ? `\n${e.diff}` : '';
  return `${e.name ? `${e.name}: ` : ''}${e.message}${diff}`;
}

export function toOutcome(t: TestCase): TestOutcome {
  const r = t.result();
  const d = t.diagnostic();
  return {
    id: t.id,
    file: t.module.moduleId,
    name: t.fullName,
    state: r.state,
    durationMs: d?.duration ?? 0,
    startedAt: d ? new Date(d.startTime).toISOString() : undefined,
    errors: (r.errors ?? []).map(errorText),
    note: r.state === 'skipped' ? r.note : undefined,
    deliverables: t.meta().deliverables ?? [],
  };
}

/** Errors no test owns: a failed global setup, a module that did not load, a beforeAll. */
function runErrors(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): string[] {
  const owned = modules.flatMap((m) => [
    ...m.errors().map((e) => `${m.relativeModuleId}: ${errorText(e)}`),
    ...[...m.children.allSuites()].flatMap((s) => s.errors().map((e) => `${m.relativeModuleId} > ${s.fullName}: ${errorText(e)}`)),
  ]);
  return [...owned, ...unhandled.map(errorText)];
}

export default class DeliverablesReporter implements Reporter {
  private vitest?: Vitest;
  private readonly paths: ReportPaths;

  constructor(options: { root?: string } = {}) {
    this.paths = reportPaths(options.root);
  }

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    // A report must describe this run only: stale evidence would pass a deliverable nobody proved.
    rmSync(this.paths.evidence, { recursive: true, force: true });
    rmSync(this.paths.allureResults, { recursive: true, force: true });
    mkdirSync(this.paths.evidence, { recursive: true });
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandled: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    const tests = modules.flatMap((m) => [...m.children.allTests()].map(toOutcome));
    const results = buildResults(deliverables, tests, readEvidence(this.paths.evidence));
    const artifacts = readArtifacts(this.paths);
    const generatedAt = new Date().toISOString();
    const errors = runErrors(modules, unhandled);
    if (reason === 'interrupted') errors.unshift('The run was interrupted before it finished.');

    mkdirSync(this.paths.reports, { recursive: true });
    writeFileSync(this.paths.html, renderDeliverables({ generatedAt, topology, results, runErrors: errors, ...artifacts }));
    writeFileSync(this.paths.results, `${JSON.stringify(resultsJson(results, generatedAt, artifacts.meta?.mode), null, 2)}\n`);
    const c = countByStatus(results);
    this.vitest?.logger.log(
      `deliverables: ${c.pass} pass, ${c.fail} fail, ${c.missing} missing -> ${this.paths.html}`,
    );
  }
}
