import { describe, expect, it } from 'vitest';
import { jobSummary } from '../../ci/job-summary.ts';
import { resultsJson } from '../../src/report/results.ts';
import { FAILING, FAILURE_MESSAGE, syntheticInput } from './synthetic.ts';

describe('jobSummary', () => {
  it('lists every deliverable with its verdict and the first failure line', () => {
    const input = syntheticInput();
    const md = jobSummary(resultsJson(input.results, input.generatedAt, 'native'));
    expect(md.match(/^\| (✅|❌|⚠️)/gm)).toHaveLength(27);
    expect(md).toContain(`| ❌ fail | \`${FAILING}\``);
    expect(md).toContain(FAILURE_MESSAGE);
    expect(md).toContain('25 pass, 1 fail, 1 missing');
  });

  it('says so when the run left no results', () => {
    expect(jobSummary(undefined)).toContain('No reports/results.json');
  });
});
