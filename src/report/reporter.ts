/**
 * Vitest reporter that turns a run into the deliverables report: it joins every test's result
 * with the evidence the suites captured and writes reports/deliverables.html and results.json,
 * judging the whole run (every test, every error outside a test), not only the deliverables.
 * List it first: its onInit clears the previous run's evidence and Allure results (Allure writes
 * its environment file in its own onInit), and it masks the run's secrets in every error before
 * the other reporters print or write them.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { SerializedError, TestError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSpecification, TestSuite, Vitest } from 'vitest/node';
import { topology } from '../topology/default.ts';
import { readArtifacts, readEvidence } from './artifacts.ts';
import { deliverables } from '../grader/deliverables.ts';
import { day6Deliverables } from '../grader/day6/deliverables.ts';
import { replaceFile } from '../host/files.ts';
import { relativeTo, reportPaths, type ReportPaths } from './paths.ts';
import { renderDeliverables } from './render.ts';
import { buildResults, deliverablesLine, resultsJson, runLine, summarizeRun } from './results.ts';
import { Redactor } from './redact.ts';
import { readRunErrors } from './run-errors.ts';
import type { BlockedFile, DeliverableResult, LiveHost, ReportInput, TestOutcome } from './types.ts';

/** Takes the repository root out of a path or a message. */
type Relative = (text: string) => string;

function errorText(e: TestError | SerializedError): string {
  const diff = 'diff' in e && e.diff ? `\n${e.diff}` : '';
  return `${e.name ? `${e.name}: ` : ''}${e.message}${diff}`;
}

export function toOutcome(t: TestCase, rel: Relative): TestOutcome {
  const r = t.result();
  const d = t.diagnostic();
  return {
    id: t.id,
    file: rel(t.module.moduleId),
    name: t.fullName,
    state: r.state === 'skipped' && t.options.mode === 'todo' ? 'todo' : r.state,
    durationMs: d?.duration ?? 0,
    startedAt: d ? new Date(d.startTime).toISOString() : undefined,
    errors: (r.errors ?? []).map((e) => rel(errorText(e))),
    note: r.state === 'skipped' ? r.note : undefined,
    deliverables: t.meta().deliverables ?? [],
  };
}

/** Errors no test owns: a module that did not load, a beforeAll or afterAll, unhandled errors. */
function runErrors(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): string[] {
  const owned = modules.flatMap((m) => [
    ...m.errors().map((e) => `${m.relativeModuleId}: ${errorText(e)}`),
    ...[...m.children.allSuites()].flatMap((s) => s.errors().map((e) => `${m.relativeModuleId} > ${s.fullName}: ${errorText(e)}`)),
  ]);
  return [...owned, ...unhandled.map(errorText)];
}

/** A test meant to run that did not: its file failed to load or a hook above it failed. */
const stopped = (t: TestCase) => t.options.mode === 'run' && (t.result().state === 'skipped' || t.result().state === 'pending');

/**
 * Files whose tests could not all run: a module or suite with errors (a load error, a failed
 * beforeAll) over no tests or over tests that never ran, and files scheduled but never started.
 * A failed afterAll blocks nothing: its tests ran and tagged themselves.
 */
function blockedFiles(modules: ReadonlyArray<TestModule>, scheduled: string[], errors: string[], rel: Relative): BlockedFile[] {
  const hit = modules.flatMap((m) => {
    const scopes: (TestModule | TestSuite)[] = [m, ...m.children.allSuites()];
    const failed = scopes.filter((s) => {
      const tests = [...s.children.allTests()];
      return s.errors().length > 0 && (tests.length === 0 || tests.some(stopped));
    });
    const texts = failed.flatMap((s) => s.errors().map((e) => rel(errorText(e))));
    return texts.length ? [{ file: rel(m.moduleId), errors: texts }] : [];
  });
  const started = new Set(modules.map((m) => m.moduleId));
  const never = scheduled.filter((id) => !started.has(id)).map((id) => ({ file: rel(id), errors: ['the file never ran', ...errors] }));
  return [...hit, ...never];
}

export default class DeliverablesReporter implements Reporter {
  private vitest?: Vitest;
  private readonly rel: Relative;
  private readonly paths: ReportPaths;
  private scheduled: string[] = [];
  /** The report last written and how many recorded run errors it holds, for a failing global teardown. */
  private last?: { input: ReportInput; recorded: number };

  /** Reads the live host at the run's end, when a platform suite ran: the report's diagram and the diagnoses. */
  private readonly inspect: (failing: string[], runDir: string | undefined) => Promise<LiveHost | undefined>;

  /** The run's secrets, gathered from its run directories while it runs: no error it reports may show one. */
  private readonly secrets: Redactor;
  private collecting?: NodeJS.Timeout;

  /** `runDirs`: where the run's platforms keep their secrets (every one a test run may use, by default). */
  constructor(options: { root?: string; inspect?: DeliverablesReporter['inspect']; runDirs?: string[] } = {}) {
    const root = options.root ?? process.cwd();
    this.secrets = new Redactor(options.runDirs);
    this.inspect = options.inspect ?? ((failing, runDir) => import('./live-host.ts').then((m) => m.inspectHost(failing, runDir)));
    this.rel = (text) => relativeTo(root, text);
    this.paths = reportPaths(root);
  }

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    // A report must describe this run only: stale evidence would pass a deliverable nobody proved.
    rmSync(this.paths.evidence, { recursive: true, force: true });
    rmSync(this.paths.allureResults, { recursive: true, force: true });
    mkdirSync(this.paths.evidence, { recursive: true });
    // A test's own platform lives a few seconds and removes its secrets at `down`: read them while they exist.
    this.secrets.collect();
    this.collecting = setInterval(() => this.secrets.collect(), 200);
    this.collecting.unref();
    // Global teardowns run after onTestRunEnd, before these callbacks.
    vitest.onClose(() => {
      clearInterval(this.collecting);
      this.addTeardownErrors();
    });
  }

  /**
   * Errors are masked where Vitest keeps them, before any reporter reads them: this reporter is
   * listed first, and this runs before its first await, so the console, junit.xml and Allure
   * (which write at the run's end, from the same objects) see them masked.
   */
  onTestCaseResult(t: TestCase): void {
    this.secrets.collect().redactDeep(t.result().errors);
    // Allure's steps (its matcher steps quote the values compared) travel in the test's meta.
    this.secrets.redactDeep(t.meta());
  }

  private redactTasks(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    this.secrets.collect();
    for (const m of modules) {
      this.secrets.redactDeep([m.errors(), m.meta()]);
      for (const s of m.children.allSuites()) this.secrets.redactDeep([s.errors(), s.meta()]);
      for (const t of m.children.allTests()) this.secrets.redactDeep([t.result().errors, t.meta()]);
    }
    this.secrets.redactDeep(unhandled);
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.scheduled = specifications.map((s) => s.moduleId);
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, reason: TestRunEndReason): Promise<void> {
    this.redactTasks(modules, unhandled);
    const tests = modules.flatMap((m) => [...m.children.allTests()].map((t) => toOutcome(t, this.rel)));
    const recorded = readRunErrors(this.paths);
    const errors = [...recorded, ...runErrors(modules, unhandled)].map(this.rel);
    if (reason === 'interrupted') errors.unshift('The run was interrupted before it finished.');
    // Whatever made Vitest fail the run, the report must not call it green.
    else if (reason === 'failed' && !errors.length && !tests.some((t) => t.state === 'failed')) {
      errors.push('Vitest failed the run outside any test; its console output says why.');
    }
    const evidence = readEvidence(this.paths.evidence).map((r) => ({ ...r, file: this.rel(r.file) }));
    const blocked = blockedFiles(modules, this.scheduled, errors, this.rel);
    const results = buildResults(deliverables, tests, evidence, blocked);
    // Course day 6's catalogue, judged alike but apart: the seed's 27 keep their own counts.
    const day6 = buildResults(day6Deliverables, tests, evidence, blocked);
    const live = await this.liveHost(modules, results, errors);
    const input: ReportInput = { generatedAt: new Date().toISOString(), title: topology.tag, results, day6, tests, runErrors: errors, ...readArtifacts(this.paths), ...(live ? { live } : {}) };
    this.last = { input, recorded: recorded.length };
    this.write(input);
  }

  /** The platform is still up here (global teardowns run later): its diagram, and a diagnosis for each failing deliverable. */
  private async liveHost(modules: ReadonlyArray<TestModule>, results: DeliverableResult[], errors: string[]): Promise<LiveHost | undefined> {
    const platform = modules.find((m) => m.project.name === 'platform')?.project;
    if (!platform) return undefined;
    try {
      return await this.inspect(
        results.filter((r) => r.status !== 'pass').map((r) => r.id),
        platform.getProvidedContext().runDir,
      );
    } catch (e) {
      errors.push(`reading the live host for the report failed: ${(e as Error).message}`);
      return undefined;
    }
  }

  private addTeardownErrors(): void {
    if (!this.last) return;
    this.secrets.collect();
    const late = readRunErrors(this.paths).slice(this.last.recorded).map(this.rel);
    if (!late.length) return;
    this.write({ ...this.last.input, runErrors: [...this.last.input.runErrors, ...late] });
  }

  private write(input: ReportInput): void {
    mkdirSync(this.paths.reports, { recursive: true });
    const run = summarizeRun(input);
    // Run errors (a global setup's, the evidence's) come from files: masked as they are written out.
    const clean = (text: string) => this.secrets.redact(text);
    replaceFile(this.paths.html, clean(renderDeliverables(input, run)));
    replaceFile(this.paths.results, clean(`${JSON.stringify(resultsJson(input, run), null, 2)}\n`));
    this.vitest?.logger.log(`${runLine(run)}\n${deliverablesLine(input)} -> ${this.rel(this.paths.html)}`);
  }
}
