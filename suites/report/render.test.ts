import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { buildResults } from '../../src/report/results.ts';
import type { TestOutcome } from '../../src/report/types.ts';
import { evidenceDir, recordEvidence, redact, registerSecrets } from '../support/evidence.ts';
import { DIAGNOSIS, FAILING, FAILURE_MESSAGE, HOSTILE, MISSING, syntheticInput, syntheticTraffic } from './synthetic.ts';

function article(html: string, id: string): string {
  const start = html.indexOf(`<article id="d-${id}"`);
  expect(start).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</article>', start));
}

describe('renderDeliverables', () => {
  const html = renderDeliverables(syntheticInput());

  it('lists all 27 deliverables in seed order with a verdict each', () => {
    expect(deliverables).toHaveLength(27);
    const ids = [...html.matchAll(/data-deliverable="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(deliverables.map((d) => d.id));
    expect(article(html, FAILING)).toContain('data-status="fail"');
    expect(article(html, MISSING)).toContain('data-status="missing"');
    expect(article(html, MISSING)).toContain('No test captured evidence');
  });

  it('puts the failure message and captured output first in a failing deliverable', () => {
    const card = article(html, FAILING);
    const failure = card.indexOf('class="failure"');
    expect(failure).toBeGreaterThan(-1);
    expect(card.indexOf(FAILURE_MESSAGE)).toBeGreaterThan(failure);
    expect(card.indexOf('upstream down')).toBeGreaterThan(failure);
    expect(card.indexOf('upstream down')).toBeLessThan(card.indexOf('Proved by'));
    expect(card).toContain('exit 22');
  });

  it('lists failing deliverables in the summary before the overview', () => {
    const summary = html.slice(html.indexOf('id="summary"'), html.indexOf('id="diagram"'));
    expect(summary.indexOf(`href="#d-${FAILING}"`)).toBeLessThan(summary.indexOf('class="overview"'));
    expect(summary).toContain(FAILURE_MESSAGE);
  });

  it('escapes everything it did not write itself', () => {
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('egress &lt;hidden&gt; behind the host');
  });

  it('shows the mode, the diagram, the matrix with its mismatch and the rules', () => {
    expect(html).toContain('mode: native');
    expect(html).toContain('<svg');
    expect(html.match(/class="mismatch"/g)).toHaveLength(1);
    expect(html).toContain('-j MASQUERADE');
  });

  it("shows a failing deliverable's diagnosis, cause and fix, and the deviations accepted on a passing one", () => {
    const card = article(html, FAILING);
    expect(card).toContain(`data-diagnosis="${DIAGNOSIS}"`);
    expect(card).toContain('nothing listens on 10.0.0.20:3000 in api-gateway');
    expect(card).toContain('fix: <code>sudo ip netns exec api-gateway python3 /tmp/api-gateway.py &amp;</code>');
    expect(article(html, '1.2-bridge')).toContain('data-deviation="bridge-renamed"');
    expect(article(html, '1.2-veth')).not.toContain('data-deviation');
    expect(article(html, '2.1-health-host')).toContain('data-advice="host-clients-not-forwarded"');
  });

  it('draws the diagram discovered on the host, not the declared topology', () => {
    const diagram = html.slice(html.indexOf('id="diagram"'), html.indexOf('id="matrix"'));
    expect(diagram).toContain('live network diagram');
  });

  it('says "not captured" for the artifacts a run did not leave', () => {
    const bare = renderDeliverables(syntheticInput({ meta: undefined, matrix: undefined, rules: undefined, live: undefined }));
    expect(bare).toContain('live diagram (no platform suite read the host) not captured');
    expect(bare).toContain('mode not captured');
    expect(bare).toContain('Reachability matrix not captured');
    expect(bare).toContain('iptables rules not captured');
  });

  it('heads a run with a failing deliverable with the red verdict and every failed test', () => {
    const header = html.slice(0, html.indexOf('id="summary"'));
    expect(header).toContain('<p class="verdict failed" data-ok="false">run FAILED · tests: 25 passed, 1 failed, 1 skipped, 0 todo · 1 failing deliverable');
    expect(html).toContain(`<title>${topology.tag} deliverables: run failed</title>`);
    const summary = html.slice(html.indexOf('id="summary"'), html.indexOf('id="diagram"'));
    expect(summary.indexOf('Failed tests')).toBeLessThan(summary.indexOf('Seed deliverables'));
    expect(summary).toContain(`<b>proves ${FAILING}</b> <span class="meta">suites/phase2/synthetic.test.ts</span>`);
  });

  it('is red when all 27 deliverables pass but a test no deliverable owns failed', () => {
    const tests: TestOutcome[] = deliverables.map((d, i) => ({
      id: `t${i}`,
      file: 'suites/phase1/x.test.ts',
      name: `proves ${d.id}`,
      state: 'passed',
      durationMs: 1,
      errors: [],
      deliverables: [d.id],
    }));
    tests.push({
      id: 'u',
      file: 'suites/app/order.test.ts',
      name: 'rejects a negative quantity',
      state: 'failed',
      durationMs: 1,
      errors: ['AssertionError: expected 201 to be 400'],
      deliverables: [],
    });
    const input = syntheticInput({ tests, results: buildResults(deliverables, tests, []) });
    const page = renderDeliverables(input);
    expect(input.results.every((d) => d.status === 'pass')).toBe(true);
    expect(page).toContain('<p class="verdict failed" data-ok="false">run FAILED · tests: 27 passed, 1 failed, 0 skipped, 0 todo');
    expect(page).toContain('<section id="summary" data-ok="false">');
    const summary = page.slice(page.indexOf('id="summary"'), page.indexOf('id="diagram"'));
    expect(summary).toContain('rejects a negative quantity');
    expect(summary).toContain('suites/app/order.test.ts');
    expect(summary).toContain('AssertionError: expected 201 to be 400');
    expect(summary).toContain('<div class="count pass"><b>27</b>pass</div>');
  });

  it('reads green only when no test, deliverable or run step failed', () => {
    const tests: TestOutcome[] = deliverables.map((d, i) => ({ id: `t${i}`, file: 'f', name: d.id, state: 'passed', durationMs: 1, errors: [], deliverables: [d.id] }));
    const page = renderDeliverables(syntheticInput({ tests, results: buildResults(deliverables, tests, []) }));
    expect(page).toContain('<p class="verdict passed" data-ok="true">run passed · tests: 27 passed, 0 failed, 0 skipped, 0 todo</p>');
    expect(page).not.toContain('Failed tests');
    expect(page).toContain(`<title>${topology.tag} deliverables</title>`);
  });

  it("says so when the run's test totals were not given", () => {
    const page = renderDeliverables(syntheticInput({ tests: undefined }));
    expect(page).toContain('Test totals not captured in this run.');
    expect(page).toContain('run FAILED · test totals not captured · 1 failing deliverable');
  });

  it('shows run errors at the top', () => {
    const broken = renderDeliverables(syntheticInput({ runErrors: ['globalSetup: ip netns add <nginx-lb> failed'] }));
    const summary = broken.slice(broken.indexOf('id="summary"'), broken.indexOf('id="diagram"'));
    expect(summary).toContain('globalSetup: ip netns add &lt;nginx-lb&gt; failed');
    expect(broken).toContain('· 1 run error · 1 failing deliverable');
  });

  it('cuts a runaway stream instead of embedding all of it', () => {
    const input = syntheticInput();
    const d = input.results.find((r) => r.evidence.length)!;
    d.evidence[0]!.stdout = 'x'.repeat(50_000);
    expect(renderDeliverables(input)).toContain('… (30000 more characters)');
  });
});

describe('secrets', () => {
  it('never reach the evidence file or the report', () => {
    const secret = 'pw-3f9c1a7e';
    registerSecrets([secret, undefined, 'abc']);
    expect(redact(`PGPASSWORD=${secret} psql`)).toBe('PGPASSWORD=******** psql');

    const shown = recordEvidence({ command: `psql "password=${secret}"`, stdout: secret, stderr: `auth ${secret}`, exitCode: 0, durationMs: 1, at: new Date().toISOString() });
    expect(JSON.stringify(shown)).not.toContain(secret);
    const lines = readFileSync(join(evidenceDir, `${process.pid}-${threadId}.jsonl`), 'utf8')
      .trim()
      .split('\n');
    const written = lines[lines.length - 1]!;
    expect(written).not.toContain(secret);
    expect(JSON.parse(written).deliverables).toEqual([]);

    const input = syntheticInput();
    const ids = [deliverables[0]!.id];
    const tests = [{ id: 'x', file: 'f', name: 'n', state: 'passed' as const, durationMs: 1, errors: [], deliverables: ids }];
    input.results = buildResults(deliverables, tests, [{ ...shown, file: 'f', test: 'n', testId: 'x', deliverables: ids }]);
    const html = renderDeliverables(input);
    expect(html).not.toContain(secret);
    expect(html).toContain('********');
  });
});

describe('the east-west truth table', () => {
  const [a, b, c] = topology.app.nodes;
  const cell = (from: string, to: string, address: string, proto: 'tcp' | 'icmp', expected: boolean, observed: boolean) => ({ from, to, address, proto, expected, observed });
  const policy = {
    policy: 'deny',
    data: 'native',
    sources: [a!.name, b!.name, c!.name],
    cells: [
      cell(a!.name, b!.name, `${b!.ip}:${b!.port}`, 'tcp', true, true),
      cell(a!.name, c!.name, `${c!.ip}:${c!.port}`, 'tcp', false, true),
      cell(b!.name, c!.name, `${c!.ip}:${c!.port}`, 'tcp', false, false),
      cell(a!.name, b!.name, b!.ip, 'icmp', true, true),
    ],
    summary: 'policy deny: 2/3 service connections open, 1 mismatch',
  };
  const section = (html: string) => html.slice(html.indexOf('id="policy"'), html.indexOf('id="rules"'));

  it('shows sources down and destinations across, for TCP and ICMP, the mismatch in red with what was expected', () => {
    const html = section(renderDeliverables(syntheticInput({ matrix: undefined, policy })));
    expect(html).toContain('policy deny: 2/3 service connections open, 1 mismatch');
    expect(html).toContain('TCP connect');
    expect(html).toContain('ICMP echo');
    expect(html.match(/class="mismatch"/g)).toHaveLength(1);
    expect(html).toContain(`${a!.name} → ${c!.name} ${c!.ip}:${c!.port}: expected denied, observed connected`);
    expect(html).toContain('✓ (expected ✗)');
  });

  it('says "not captured" without one', () => {
    expect(section(renderDeliverables(syntheticInput()))).toContain('east-west truth table not captured');
  });
});

describe('the traffic analysis', () => {
  const section = (html: string) => html.slice(html.indexOf('id="traffic"'), html.indexOf('id="rules"'));
  const names = [...topology.app.nodes.map((n) => n.name), 'ext-client'];
  const offPath = names.length * (names.length - 1) - (topology.flows!.length + 1);

  it('shows the burst, then one row per pair: the path in request order, then every off-path pair with its zero', () => {
    const html = section(renderDeliverables(syntheticInput()));
    expect(html).toContain('<h2>Traffic analysis</h2>');
    expect(html).toContain('220 requests (200 GET /api/products, 20 POST /api/orders) from ext-client to 203.0.113.129:8080');
    const rows = [...html.matchAll(/<tr class="(\w+)" data-pair="([^"]+)" data-on-path="(\w+)">/g)].map((m) => ({ cls: m[1], pair: m[2], onPath: m[3] === 'true' }));
    expect(rows.filter((r) => r.onPath).map((r) => r.pair)).toEqual(['ext-client → nginx-lb', ...topology.flows!.map((f) => `${f.from} → ${f.to}`)]);
    expect(rows.slice(0, topology.flows!.length + 1).every((r) => r.onPath)).toBe(true);
    expect(rows.filter((r) => !r.onPath)).toHaveLength(offPath);
    expect(rows.filter((r) => !r.onPath).every((r) => r.cls === 'offpath')).toBe(true);
    expect(html).toContain('off the path: none');
    // The command is shown as the suite ran it, escaped.
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain(HOSTILE);
  });

  it('draws packets and bytes as bars for each path pair and the per-second series as one line per path pair', () => {
    const html = section(renderDeliverables(syntheticInput()));
    const bars = html.slice(html.indexOf('data-chart="traffic-bars"'), html.indexOf('</svg>', html.indexOf('data-chart="traffic-bars"')));
    // Two panels (packets, bytes) x two directions per pair.
    expect(bars.match(/<rect [^>]*data-pair=/g)).toHaveLength((topology.flows!.length + 1) * 4);
    expect(bars).toContain('data-pair="ext-client → nginx-lb :80" data-dir="out" data-value="1100"');
    const series = html.slice(html.indexOf('data-chart="traffic-series"'));
    expect(series.match(/<g data-line=/g)).toHaveLength(topology.flows!.length + 1);
    expect(series).toContain('<g data-line="nginx-lb → api-gateway :3000">');
    expect(series).toContain('seconds from the burst');
  });

  it('marks an off-path pair that carried traffic in red, saying so', () => {
    const html = section(renderDeliverables(syntheticInput({ traffic: syntheticTraffic({ from: 'nginx-lb', to: 'postgres-db' }) })));
    expect(html).toMatch(
      /<tr class="mismatch" data-pair="nginx-lb → postgres-db" data-on-path="false"><td>[^<]+<\/td><td>any<\/td><td>off the path, yet it carried traffic<\/td><td>1<\/td><td>5<\/td>/,
    );
    expect(html).toContain(`, 1/${offPath} off-path pairs did`);
  });

  it('says "not captured" without one', () => {
    const html = section(renderDeliverables(syntheticInput({ traffic: undefined })));
    expect(html).toContain('traffic analysis not captured');
    expect(html).not.toContain('<svg');
  });
});
