import type { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import * as allure from 'allure-js-commons/sync';
import { expect, TestRunner, type RunnerTestCase } from 'vitest';
import { priv, privPrefix } from '../../src/host/exec.ts';
import { runDirsOfARun } from '../../src/host/run-dir.ts';
import { Redactor } from '../../src/report/redact.ts';
import { runDir } from './platform.ts';
import { deliverables as seed } from '../../src/grader/deliverables.ts';
import { day6Deliverables } from '../../src/grader/day6/deliverables.ts';
import type { Evidence as GraderEvidence } from '../../src/grader/day6/discover.ts';
import { relativeTo, reportPaths } from '../../src/report/paths.ts';
import type { Captured, EvidenceRecord } from '../../src/report/types.ts';

export type { Captured, EvidenceRecord };

export const evidenceDir = reportPaths().evidence;
/** One file per worker (process and thread), so concurrent appends never interleave. */
const evidenceFile = join(evidenceDir, `${process.pid}-${threadId}.jsonl`);
// The platform under test's run directory and every other a test may start one in.
const secrets = new Redactor([...new Set([runDir.root, ...runDirsOfARun()])]);

/** Values (per-run passwords) that must never reach a report. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  secrets.add(values);
}

/** The run's secrets masked, those of platforms started since included. */
export function redact(text: string): string {
  return secrets.collect().redact(text);
}

interface AllureAsyncContext {
  currentTaskStorage: AsyncLocalStorage<RunnerTestCase>;
  activeTasks?: WeakSet<RunnerTestCase>;
}

/**
 * The running test. Vitest alone only knows the test started last, which is wrong after an
 * await under it.concurrent; allure-vitest's runner keeps the test per async context, so its
 * answer is preferred whenever the Allure reporter is on.
 */
function currentTest(): RunnerTestCase | undefined {
  const ctx = (globalThis as { __allureVitestAsyncContext?: AllureAsyncContext }).__allureVitestAsyncContext;
  const task = ctx?.currentTaskStorage.getStore();
  if (task && (ctx?.activeTasks?.has(task) ?? true)) return task;
  return TestRunner.getCurrentTest();
}

/** The seed's deliverables and course day 6's, each catalogue its own (the reporter judges them apart). */
const known = [...seed, ...day6Deliverables];

/**
 * Tag the running test with the seed (or day-6) deliverables it proves: the reporter reads the tag from
 * the test's meta (so a test that fails before capturing anything still fails its deliverable)
 * and Allure files the test under Phase (epic) > seed task (feature) > deliverable (story).
 */
export function deliverable(...ids: string[]): void {
  const found = ids.map((id) => {
    const d = known.find((k) => k.id === id);
    if (!d) throw new Error(`unknown deliverable id "${id}" (see src/grader/deliverables.ts and src/grader/day6/deliverables.ts)`);
    return d;
  });
  const task = currentTest();
  if (task) task.meta.deliverables = [...new Set([...(task.meta.deliverables ?? []), ...ids])];
  for (const d of found) {
    allure.epic(d.epic);
    allure.feature(d.feature);
    allure.story(d.title);
    allure.label('deliverable', d.id);
  }
}

/** Attach a captured command and its output to the running test (JSONL and an Allure step). */
export function recordEvidence(c: Captured): Captured {
  const clean: Captured = { ...c, command: redact(c.command), stdout: redact(c.stdout), stderr: redact(c.stderr) };
  const task = currentTest();
  const rec: EvidenceRecord = {
    ...clean,
    // Relative to the repository: the evidence folder is uploaded as is and must read the same anywhere.
    file: relativeTo(process.cwd(), task?.file.filepath ?? expect.getState().testPath ?? ''),
    test: task?.fullTestName ?? expect.getState().currentTestName ?? '(outside a test)',
    testId: task?.id,
    deliverables: task?.meta.deliverables ?? [],
  };
  mkdirSync(evidenceDir, { recursive: true });
  appendFileSync(evidenceFile, `${JSON.stringify(rec)}\n`);
  // A non-zero exit is named, not failed: negative checks (isolation, blocked ports) expect one.
  const exit = clean.exitCode === 0 ? '' : ` → exit ${clean.exitCode}`;
  allure.step(`$ ${clean.command}${exit}`, (step) => {
    step.parameter('exit code', String(clean.exitCode));
    if (clean.stdout) allure.attachment('stdout', clean.stdout, 'text/plain');
    if (clean.stderr) allure.attachment('stderr', clean.stderr, 'text/plain');
  });
  return clean;
}

/**
 * Tag the running test with a day-6 deliverable and attach what the grader ran on the hosts for it
 * (each command with its output and exit code; masked, as recordEvidence masks), the host leading
 * the command line as a prompt would name it.
 */
export function proveDay6(id: string, ran: GraderEvidence[], at: string): void {
  if (!day6Deliverables.some((d) => d.id === id)) throw new Error(`unknown day-6 deliverable id "${id}" (see src/grader/day6/deliverables.ts)`);
  deliverable(id);
  for (const e of ran) recordEvidence({ command: `[${e.host}] ${e.command}`, stdout: e.stdout, stderr: e.stderr, exitCode: e.exitCode, durationMs: 0, at });
}

/**
 * Run a shell command line as a person would type it (privileged, as the seed's `sudo ...`),
 * record it with what it printed, and return the result. Never throws on a non-zero exit:
 * the test asserts on exitCode so the failure shows with its output.
 */
export async function recordedShell(command: string, opts: { timeoutMs?: number } = {}): Promise<Captured> {
  const at = new Date().toISOString();
  // --norc: Node's stdio are sockets, which makes bash source ~/.bashrc as if run by rshd.
  const r = await priv(['bash', '--norc', '--noprofile', '-c', command], { allowFail: true, timeoutMs: opts.timeoutMs ?? 30_000 });
  const shown = [...privPrefix.filter((p) => p !== '-n'), command].join(' ');
  return recordEvidence({ ...r, command: shown, at });
}
