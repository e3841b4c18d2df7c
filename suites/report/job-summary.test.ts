import { describe, expect, it } from 'vitest';
import { jobSummary } from '../../ci/job-summary.ts';
import { resultsJson } from '../../src/report/results.ts';
import { FAILING, FAILURE_MESSAGE, syntheticInput } from './synthetic.ts';

describe('jobSummary', () => {
  it('lists every deliverable with its verdict and the first failure line', () => {
    const input = syntheticInput();
    const md = jobSummary(resultsJson(input));
    expect(md.match(/^\| (✅|❌|⚠️)/gm)).toHaveLength(27);
    expect(md).toContain(`| ❌ fail | \`${FAILING}\``);
    expect(md).toContain(FAILURE_MESSAGE);
    expect(md).toContain('25 pass, 1 fail, 1 missing');
    expect(md).toContain('❌ run FAILED');
  });

  it('leads with the run verdict: red, with every failure, even when every deliverable passed', () => {
    const input = syntheticInput();
    const green = { ...input, results: input.results.map((r) => ({ ...r, status: 'pass' as const })) };
    const lone = {
      id: 'x',
      file: 'suites/unit/plan.test.ts',
      name: 'plan > a check of no deliverable',
      state: 'failed' as const,
      durationMs: 1,
      errors: ['AssertionError: expected 1 to be 2'],
      deliverables: [],
    };
    const md = jobSummary(
      resultsJson({ ...green, tests: [...(green.tests ?? []).map((t) => ({ ...t, state: 'passed' as const, errors: [] })), lone], runErrors: ['platform global teardown: the host is not as it was'] }),
    );
    expect(md.indexOf('❌ run FAILED')).toBeLessThan(md.indexOf('Deliverables: 27 pass'));
    expect(md).toContain('`suites/unit/plan.test.ts` › plan > a check of no deliverable: AssertionError: expected 1 to be 2');
    expect(md).toContain('- ❌ platform global teardown: the host is not as it was');
  });

  it("gives a failing deliverable's diagnosis (cause and fix) instead of the test's error, and lists the accepted deviations", () => {
    const input = syntheticInput();
    const live = {
      svg: '<svg/>',
      findings: [],
      diagnoses: [{ id: 'ip-forward-off', cause: 'net.ipv4.ip_forward is 0.', fix: 'sudo sysctl -w net.ipv4.ip_forward=1', deliverables: [FAILING] }],
      deviations: [{ id: 'bridge-renamed', text: "the app bridge is br0, not the seed's br-app", deliverables: ['1.2-bridge'] }],
      advice: [],
    };
    const md = jobSummary(resultsJson({ ...input, live }));
    const row = md.split('\n').find((l) => l.includes(`\`${FAILING}\``))!;
    expect(row).toContain('net.ipv4.ip_forward is 0. Fix: `sudo sysctl -w net.ipv4.ip_forward=1`');
    expect(row).not.toContain(FAILURE_MESSAGE);
    expect(md).toContain("- ℹ️ the app bridge is br0, not the seed's br-app (`1.2-bridge`)");
    expect(md).toContain('deliverables: 25/27 passed');
  });

  it("gives the grader's mutation score when the run measured one", () => {
    const input = syntheticInput();
    expect(jobSummary(resultsJson(input), { killed: 20, survived: 0, misattributed: 1, mutants: 21 })).toContain('Mutation testing of the grader: 20/21 killed, 0 survived, 1 misattributed');
    expect(jobSummary(resultsJson(input))).not.toContain('Mutation testing');
  });

  it('says so when the run left no results', () => {
    expect(jobSummary(undefined)).toContain('No reports/results.json');
  });
});
