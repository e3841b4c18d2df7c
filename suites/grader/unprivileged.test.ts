/**
 * A learner without privileges (no root, no passwordless sudo) who runs verify on a complete lab:
 * the lab was not judged, so every deliverable is inconclusive, never a fail, the exit code says
 * so (2), and verify names the command to run instead.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deliverables } from '../../src/grader/deliverables.ts';
import { priv } from '../../src/host/exec.ts';
import { readJson } from '../../src/util/read-json.ts';
import type { ResultsJson } from '../../src/report/results.ts';

const root = join(import.meta.dirname, '..', '..');
/** `nobody` has no sudo; it must be able to read this checkout and Node to run the CLI at all. */
const readable = (await priv(['runuser', '-u', 'nobody', '--', 'test', '-r', join(root, 'bin', 'ecomnet.js'), '-a', '-x', process.execPath], { allowFail: true })).exitCode === 0;
if (!readable) console.log(`unprivileged verify: skipped: the user nobody cannot read ${root} or run ${process.execPath}`);

describe('verify by a user without privileges', () => {
  it.skipIf(!readable)('judges nothing, fails nothing: every deliverable inconclusive, exit 2, and the command to run instead', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'ecomnet-unprivileged-'));
    chmodSync(reports, 0o777);
    onTestFinished(() => void priv(['rm', '-rf', reports]));
    const r = await priv(['runuser', '-u', 'nobody', '--', 'env', `PATH=${process.env.PATH}`, 'HOME=/tmp', process.execPath, join(root, 'bin', 'ecomnet.js'), 'verify', '--reports', reports], {
      allowFail: true,
      timeoutMs: 60_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('sudo npx ecomnet verify');
    expect(r.stdout).toMatch(new RegExp(`^score: 0/${deliverables.length} · 0 pass, 0 fail, ${deliverables.length} inconclusive · verdict: inconclusive$`, 'm'));
    const results = readJson<ResultsJson>(join(reports, 'results.json'))!;
    expect(results.deliverables.map((d) => d.status)).toEqual(deliverables.map(() => 'inconclusive'));
  });
});
