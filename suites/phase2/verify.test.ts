/**
 * `ecomnet verify` against the platform this run built, as a person runs it after `ecomnet up
 * --detach`: the grader's independent checks score it 27/27 and leave it exactly as it was
 * (verify's own teardown compares the host before and after, and fails the run otherwise).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readJson } from '../../src/read-json.ts';
import { deliverables } from '../../src/report/deliverables.ts';
import type { ResultsJson } from '../../src/report/results.ts';
import { VERIFY_MODE } from '../../src/report/types.ts';
import { ecomnet } from '../support/cli.ts';

describe('ecomnet verify on the platform ecomnet built', () => {
  it(`scores ${deliverables.length}/${deliverables.length}, names no deviation, and reports as "${VERIFY_MODE}"`, async () => {
    const reports = mkdtempSync(join(tmpdir(), 'ecomnet-verify-'));
    onTestFinished(() => rmSync(reports, { recursive: true, force: true }));
    const r = await ecomnet(['verify', '--no-allure', '--reports', reports]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^deliverables: ${deliverables.length}/${deliverables.length} passed$`, 'm'));
    const results = readJson<ResultsJson>(join(reports, 'results.json'))!;
    expect(results.mode).toBe(VERIFY_MODE);
    expect(results.runErrors).toEqual([]);
    expect(results.deviations).toEqual([]);
    expect(results.deliverables.map((d) => d.status)).toEqual(deliverables.map(() => 'pass'));
  });
});
