/**
 * The closing line of .ci/run, summed over its runs. A run counts its tests from its JUnit
 * file, and one more failure for each way it can be red without a failed test: no JUnit file
 * (a crashed setup), a non-zero exit (a failed global teardown, a failed report check), and
 * anything left on the host afterwards.
 *
 *   node ci/tally.ts add TALLY NAME EXIT JUNIT [PROBLEM...]   one run (PROBLEM: e.g. "leftovers")
 *   node ci/tally.ts close TALLY                                prints "N passed, N failed, N skipped"
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readJson } from '../src/util/read-json.ts';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export interface RunOutcome {
  exitCode: number;
  /** The JUnit XML text, undefined when the run wrote none. */
  junit: string | undefined;
  /** Checks after the run that did not hold (host not clean, reports incomplete). */
  problems: string[];
}

const attr = (tag: string, name: string) => Number(new RegExp(`\\s${name}="(\\d+)"`).exec(tag)?.[1] ?? 0);

/** Vitest's JUnit: totals on <testsuites>, one <skipped/> per skipped test. */
export function junitCounts(xml: string): Counts | undefined {
  const head = /<testsuites\b[^>]*>/.exec(xml)?.[0];
  if (!head) return undefined;
  const failed = attr(head, 'failures') + attr(head, 'errors');
  const skipped = (xml.match(/<skipped\b/g) ?? []).length;
  return { passed: attr(head, 'tests') - failed - skipped, failed, skipped };
}

/** A run's counts and why it is red beyond its failed tests. */
export function countRun(run: RunOutcome): Counts & { reasons: string[] } {
  const tests = run.junit === undefined ? undefined : junitCounts(run.junit);
  const reasons = [...run.problems];
  if (!tests) reasons.push('no JUnit report (the run stopped before its tests were reported)');
  if (run.exitCode !== 0) reasons.push(`exit code ${run.exitCode}`);
  const c = tests ?? { passed: 0, failed: 0, skipped: 0 };
  return { ...c, failed: c.failed + reasons.length, reasons };
}

export const closingLine = (c: Counts) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

function readTally(file: string): Counts {
  return readJson<Counts>(file) ?? { passed: 0, failed: 0, skipped: 0 };
}

if (import.meta.main) {
  const [verb, file, name, exit, junitFile, ...problems] = process.argv.slice(2);
  if (verb === 'add' && file && name && exit && junitFile) {
    const c = countRun({ exitCode: Number(exit), junit: existsSync(junitFile) ? readFileSync(junitFile, 'utf8') : undefined, problems });
    const total = readTally(file);
    writeFileSync(file, JSON.stringify({ passed: total.passed + c.passed, failed: total.failed + c.failed, skipped: total.skipped + c.skipped }));
    console.log(`${name}: ${closingLine(c)}${c.reasons.length ? ` (red: ${c.reasons.join('; ')})` : ''}`);
  } else if (verb === 'close' && file) {
    const total = readTally(file);
    console.log(closingLine(total));
    process.exitCode = total.failed ? 1 : 0;
  } else {
    console.error('usage: node ci/tally.ts add TALLY NAME EXIT JUNIT [PROBLEM...] | close TALLY');
    process.exitCode = 2;
  }
}
