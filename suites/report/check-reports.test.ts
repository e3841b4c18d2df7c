import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportPaths } from '../../src/report/paths.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { resultsJson } from '../../src/report/results.ts';
import { verifyReports } from '../../src/report/check-reports.ts';
import { MISSING, syntheticInput } from './synthetic.ts';

const made: string[] = [];
afterEach(() => {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
});

function emptyRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'ecomnet-verify-'));
  made.push(root);
  return root;
}

/** A reports/ tree as a finished run leaves it. */
function finishedRun(): string {
  const root = emptyRoot();
  const p = reportPaths(root);
  const input = syntheticInput();
  mkdirSync(p.allureDir, { recursive: true });
  writeFileSync(p.html, renderDeliverables(input));
  writeFileSync(p.results, JSON.stringify(resultsJson(input)));
  writeFileSync(p.junit, '<?xml version="1.0"?><testsuites></testsuites>');
  writeFileSync(p.allureHtml, '<html></html>');
  return root;
}

describe('verifyReports', () => {
  it('accepts a complete run except for the deliverable nobody proved', () => {
    expect(verifyReports(finishedRun())).toEqual([`${MISSING} has no evidence: no test proved it`]);
  });

  it('names each missing report', () => {
    const problems = verifyReports(emptyRoot());
    expect(problems.filter((p) => p.startsWith('missing '))).toHaveLength(4);
  });

  it('notices results.json without the run verdict and test totals', () => {
    const root = finishedRun();
    // As an older reporter wrote it: deliverables only.
    writeFileSync(reportPaths(root).results, JSON.stringify({ ...resultsJson(syntheticInput()), ok: undefined, tests: {} }));
    expect(verifyReports(root)).toContain('results.json lacks the run verdict and test totals');
  });

  it('reports results.json with no tests field at all, instead of throwing', () => {
    const root = finishedRun();
    writeFileSync(reportPaths(root).results, JSON.stringify({ ...resultsJson(syntheticInput()), tests: undefined }));
    expect(verifyReports(root)).toContain('results.json lacks the run verdict and test totals');
  });

  it('notices a deliverable dropped from the report', () => {
    const root = finishedRun();
    writeFileSync(reportPaths(root).html, '<html></html>');
    expect(verifyReports(root)).toContain('deliverables.html lacks 1.1-netns-list');
  });
});
