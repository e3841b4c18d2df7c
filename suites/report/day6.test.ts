/**
 * Course day 6 in the test run's report: its own catalogue beside the seed's 27, each deliverable
 * pass, fail or missing with the commands the grader ran, and counted apart (the seed's counts unchanged).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobSummary } from '../../ci/job-summary.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { day6Deliverables, day6Suites } from '../../src/grader/day6/deliverables.ts';
import { titles } from '../../src/grader/day6/checks.ts';
import { verifyReports } from '../../src/report/check-reports.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { buildResults, countByStatus, deliverablesLine, resultsJson, runLine, summarizeRun } from '../../src/report/results.ts';
import { DAY6_FAILING, DAY6_FAILURE, DAY6_MISSING, HOSTILE, MISSING, syntheticDay6, syntheticInput } from './synthetic.ts';

const PASSING = day6Deliverables.find((d) => d.id !== DAY6_FAILING && d.id !== DAY6_MISSING)!.id;

function article(html: string, id: string): string {
  const start = html.indexOf(`<article id="d-${id}"`);
  expect(start, id).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</article>', start));
}

describe('the day-6 catalogue', () => {
  it("is the day-6 grader's deliverables, proven by the two-host suite, none of them the seed's", () => {
    expect(day6Deliverables.map((d) => [d.id, d.title])).toEqual(Object.entries(titles));
    expect(day6Deliverables.every((d) => d.epic === 'Course day 6: two hosts' && d.suites === day6Suites)).toBe(true);
    expect(deliverables).toHaveLength(27);
    expect(deliverables.some((d) => d.id.startsWith('6-'))).toBe(false);
  });

  it('judges a day-6 deliverable missing when its suite did not run, failed when its file was blocked', () => {
    expect(buildResults(day6Deliverables, [], []).map((r) => r.status)).toEqual(day6Deliverables.map(() => 'missing'));
    const blocked = buildResults(day6Deliverables, [], [], [{ file: day6Suites[0]!, errors: ['beforeAll: the hosts did not come up'] }]);
    expect(blocked.map((r) => r.status)).toEqual(day6Deliverables.map(() => 'fail'));
  });
});

describe('a run with day 6: one pass, one fail, one missing', () => {
  const day6 = syntheticDay6();
  const seedOnly = syntheticInput();
  const input = syntheticInput({ day6 });
  const html = renderDeliverables(input);

  it('keeps the seed counts as they were, and counts day 6 apart', () => {
    expect(countByStatus(input.results)).toEqual(countByStatus(seedOnly.results));
    expect(deliverablesLine(seedOnly)).toBe('deliverables: 25 pass, 1 fail, 1 missing');
    expect(deliverablesLine(input)).toBe(`deliverables: 25 pass, 1 fail, 1 missing; day 6: ${day6Deliverables.length - 2} pass, 1 fail, 1 missing`);
    const run = summarizeRun(input);
    expect(run).toMatchObject({ ok: false, failedDeliverables: 1, failedDay6: 1 });
    expect(runLine(run)).toContain('· 1 failing deliverable · 1 failing day-6 deliverable');
  });

  it('renders the "Course day 6: two hosts" section after the seed deliverables, each with its verdict and evidence', () => {
    const section = html.indexOf('<section id="day6"');
    expect(section).toBeGreaterThan(html.indexOf('<div id="deliverables">'));
    expect(html.slice(section)).toContain('<h2>Course day 6: two hosts</h2>');
    const seedIds = [...html.slice(0, section).matchAll(/data-deliverable="([^"]+)"/g)].map((m) => m[1]);
    expect(seedIds).toEqual(deliverables.map((d) => d.id));
    const day6Ids = [...html.slice(section).matchAll(/data-deliverable="([^"]+)"/g)].map((m) => m[1]);
    expect(day6Ids).toEqual(day6Deliverables.map((d) => d.id));

    const pass = article(html, PASSING);
    expect(pass).toContain('data-status="pass"');
    expect(pass).toContain('[host-a] ip netns exec nginx-lb ping');
    expect(pass).not.toContain(HOSTILE);
    const fail = article(html, DAY6_FAILING);
    expect(fail).toContain('data-status="fail"');
    expect(fail.indexOf(DAY6_FAILURE)).toBeGreaterThan(fail.indexOf('class="failure"'));
    expect(fail).toContain('exit 1');
    const missing = article(html, DAY6_MISSING);
    expect(missing).toContain('data-status="missing"');
    expect(missing).toContain('No test captured evidence');
  });

  it("gives day 6's counts in the summary apart from the seed's, and lists its failure with the seed's", () => {
    const summary = html.slice(html.indexOf('<section id="summary"'), html.indexOf('</section>'));
    const seed = summary.slice(summary.indexOf('data-catalogue="seed"'), summary.indexOf('data-catalogue="day6"'));
    expect(seed).toContain('<b>25</b>pass');
    const ofDay6 = summary.slice(summary.indexOf('data-catalogue="day6"'));
    expect(ofDay6).toContain(`<b>${day6Deliverables.length - 2}</b>pass`);
    expect(ofDay6).toContain('<b>1</b>fail');
    expect(ofDay6).toContain('<b>1</b>missing');
    expect(summary).toContain(`href="#d-${DAY6_FAILING}"`);
  });

  it('has no day-6 section when the input carries none (verify, the class report)', () => {
    expect(renderDeliverables(seedOnly)).not.toContain('id="day6"');
    expect(resultsJson(seedOnly)).not.toHaveProperty('day6');
  });

  it('writes day 6 apart in results.json, the seed counts unchanged', () => {
    const json = resultsJson(input);
    expect(json.counts).toEqual(resultsJson(seedOnly).counts);
    expect(json.deliverables).toHaveLength(27);
    expect(json.day6!.counts).toMatchObject({ pass: day6Deliverables.length - 2, fail: 1, missing: 1 });
    expect(json.day6!.deliverables.map((d) => [d.id, d.status, d.epic])).toEqual(
      day6Deliverables.map((d) => [d.id, d.id === DAY6_FAILING ? 'fail' : d.id === DAY6_MISSING ? 'missing' : 'pass', 'Course day 6: two hosts']),
    );
  });

  it('gives the job summary a day-6 table after the seed one, its counts apart', () => {
    const md = jobSummary(resultsJson(input));
    expect(md).toContain('**Deliverables: 25 pass, 1 fail, 1 missing**');
    expect(md).toContain(`**Course day 6 (two hosts): ${day6Deliverables.length - 2} pass, 1 fail, 1 missing**`);
    expect(md).toContain(`| ❌ fail | \`${DAY6_FAILING}\``);
    expect(md).toContain(DAY6_FAILURE);
    expect(md).toContain(`| ⚠️ missing | \`${DAY6_MISSING}\``);
    expect(md.indexOf(`\`${PASSING}\``)).toBeGreaterThan(md.indexOf('`2.4-order-read-back`'));
  });

  describe('check-reports', () => {
    const roots: string[] = [];
    afterAll(() => {
      for (const r of roots) rmSync(r, { recursive: true, force: true });
    });

    it('names a day-6 deliverable no test proved, and one dropped from the page', () => {
      const root = mkdtempSync(join(tmpdir(), 'ecomnet-day6-'));
      roots.push(root);
      const p = reportPaths(root);
      mkdirSync(p.allureDir, { recursive: true });
      writeFileSync(p.html, renderDeliverables(input).replace(`data-deliverable="${PASSING}"`, ''));
      writeFileSync(p.results, JSON.stringify(resultsJson(input)));
      writeFileSync(p.junit, '<?xml version="1.0"?><testsuites></testsuites>');
      writeFileSync(p.allureHtml, '<html></html>');
      expect(verifyReports(root)).toEqual([`${MISSING} has no evidence: no test proved it`, `deliverables.html lacks ${PASSING}`, `${DAY6_MISSING} has no evidence: no test proved it`]);
    });
  });
});
