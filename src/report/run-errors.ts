/**
 * Failures of a global setup or teardown. Vitest hands a reporter neither (the setup's error
 * reaches only the console; the teardown runs after the report is written), so the setup
 * records them here and the reporter reads them into the report.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { reportPaths, type ReportPaths } from './paths.ts';
import { Redactor } from './redact.ts';
import { replaceFile } from '../host/files.ts';
import { readJson } from '../util/read-json.ts';

export function readRunErrors(paths: ReportPaths): string[] {
  return readJson<string[]>(paths.runErrors) ?? [];
}

/** Runs fn; if it throws, records the failure under `stage` and rethrows it, the run's secrets masked. */
export async function recordFailureOf<T>(stage: string, fn: () => Promise<T>, paths: ReportPaths = reportPaths()): Promise<T> {
  // Read before fn too: a teardown removes the platform's secrets before its check fails.
  const redactor = new Redactor().collect();
  try {
    return await fn();
  } catch (e) {
    // A failed `up` may quote a connection string: the run's secrets stay out of the file and
    // out of the error Vitest prints.
    redactor.collect();
    const text = redactor.redact(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    redactor.redactDeep(e);
    mkdirSync(dirname(paths.runErrors), { recursive: true });
    replaceFile(paths.runErrors, JSON.stringify([...readRunErrors(paths), `${stage}: ${text}`]));
    throw e;
  }
}
