/**
 * `ecomnet verify` against the platform this run built, as a person runs it after `ecomnet up
 * --detach`: the grader's independent checks score it 27/27 from verify's own outside, with the
 * run's logins handed over by the platform itself, and leave it exactly as it was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { READER_ROLE } from '../../src/data/postgres.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { readJson } from '../../src/util/read-json.ts';
import type { ResultsJson } from '../../src/report/results.ts';
import { VERIFY_MODE } from '../../src/report/types.ts';
import { ecomnet } from '../support/cli.ts';

describe('ecomnet verify on the platform ecomnet built', () => {
  it(`scores ${deliverables.length}/${deliverables.length}, names no deviation, logs in as the read-only role it was handed, and exits 0`, async () => {
    const reports = mkdtempSync(join(tmpdir(), 'ecomnet-verify-'));
    onTestFinished(() => rmSync(reports, { recursive: true, force: true }));
    const r = await ecomnet(['verify', '--reports', reports]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^score: ${deliverables.length}/${deliverables.length} · ${deliverables.length} pass, 0 fail · verdict: pass$`, 'm'));
    const results = readJson<ResultsJson>(join(reports, 'results.json'))!;
    expect(results.mode).toMatch(new RegExp(`^${VERIFY_MODE}`));
    expect(results.runErrors).toEqual([]);
    expect(results.deviations).toEqual([]);
    expect(results.deliverables.map((d) => d.status)).toEqual(deliverables.map(() => 'pass'));
    // The read-back's psql ran as the role the platform handed over, never the seed's superuser login.
    const html = (await import('node:fs')).readFileSync(join(reports, 'deliverables.html'), 'utf8');
    expect(html).toContain(`psql -U ${READER_ROLE}`);
  });
});
