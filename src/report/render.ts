/**
 * deliverables.html as a pure function of the run: the run's verdict, every failed test,
 * diagram, reachability matrix, iptables rules, then each seed deliverable with the tests and
 * terminal output that prove it, and course day 6's (two hosts) after them, counted apart.
 */
import { esc } from '../util/text.ts';
import { countByStatus, runLine, sameTest, summarizeRun, type RunSummary } from './results.ts';
import { css } from './styles.ts';
import { formatBytes, trafficBars, trafficSeries } from './traffic-chart.ts';
import type { DeliverableResult, EvidenceRecord, LiveHost, Matrix, PolicyCell, PolicyTable, ReportInput, RuleDoc, TestOutcome, TrafficCapture } from './types.ts';

/** Past this a stream is cut: the report must stay a file a browser opens instantly. */
const MAX_STREAM = 20_000;

/** Deliverables whose proof is (also) one of the report's shared sections. */
const seeAlso: Record<string, [string, string]> = {
  '1.2-diagram': ['#diagram', 'the network diagram'],
  '1.2-ping-nginx': ['#matrix', 'the reachability matrix'],
  '1.2-ping-gateway': ['#matrix', 'the reachability matrix'],
  '1.4-nat-rules': ['#rules', 'the iptables rules with explanations'],
  '1.4-traffic-flow': ['#diagram', 'the DNAT path in the diagram'],
};

export function clip(text: string): string {
  return text.length <= MAX_STREAM ? text : `${text.slice(0, MAX_STREAM)}\n… (${text.length - MAX_STREAM} more characters)`;
}

export function badge(status: string): string {
  return `<span class="badge ${esc(status.replace(' ', '-'))}">${esc(status.toUpperCase())}</span>`;
}

function terminal(r: EvidenceRecord): string {
  const exit = r.exitCode === 0 ? 'exit 0' : `<span class="bad">exit ${esc(r.exitCode)}</span>`;
  const gap = r.stdout && !r.stdout.endsWith('\n') ? '\n' : '';
  const stderr = r.stderr ? `${gap}<span class="stderr">${esc(clip(r.stderr))}</span>` : '';
  return `<figure class="cmd"><figcaption>${esc(r.at)} · ${exit} · ${esc(Math.round(r.durationMs))} ms · ${esc(r.test)}</figcaption>
<pre class="term"><span class="ps1">$ </span><span class="cmdline">${esc(r.command)}</span>
${esc(clip(r.stdout))}${stderr}</pre></figure>`;
}

function testItem(t: TestOutcome): string {
  const note = t.note ? ` <span class="note">(${esc(t.note)})</span>` : '';
  return `<li>${badge(t.state)} ${esc(t.name)} <span class="meta">${esc(t.file)} · ${esc(Math.round(t.durationMs))} ms</span>${note}</li>`;
}

function when(d: DeliverableResult): string {
  return d.evidence[0]?.at ?? d.tests.find((t) => t.startedAt)?.startedAt ?? '';
}

/** Why a deliverable failed, as the grader diagnosed it from the live host, and what it accepted with judgement. */
function judgement(d: DeliverableResult, live: LiveHost | undefined): string {
  const causes = d.status === 'pass' ? [] : (live?.diagnoses.filter((x) => x.deliverables.includes(d.id)) ?? []);
  const devs = live?.deviations.filter((x) => x.deliverables.includes(d.id)) ?? [];
  const diagnosis = causes.length
    ? `<div class="diagnosis"><h4>Diagnosis</h4><ul>${causes.map((c) => `<li data-diagnosis="${esc(c.id)}">${esc(c.cause)}<br>fix: <code>${esc(c.fix)}</code></li>`).join('')}</ul></div>`
    : '';
  const deviation = devs.length
    ? `<div class="deviation"><h4>Deviations from the seed (accepted)</h4><ul>${devs.map((x) => `<li data-deviation="${esc(x.id)}">${esc(x.text)}</li>`).join('')}</ul></div>`
    : '';
  const tips = live?.advice.filter((x) => x.deliverables.includes(d.id)) ?? [];
  const advice = tips.length
    ? `<div class="deviation"><h4>Advice (not part of the seed's contract)</h4><ul>${tips.map((x) => `<li data-advice="${esc(x.id)}">${esc(x.text)}</li>`).join('')}</ul></div>`
    : '';
  return diagnosis + deviation + advice;
}

function deliverableCard(d: DeliverableResult, live?: LiveHost): string {
  const failed = d.tests.filter((t) => t.state === 'failed');
  const failedEvidence = d.evidence.filter((r) => failed.some((t) => sameTest(r, t)));
  const otherEvidence = d.evidence.filter((r) => !failedEvidence.includes(r));
  // A failure leads with its message and the output it produced: that is what a reader needs.
  const failure = failed.length
    ? `<div class="failure"><h4>Failure</h4>${failed
        .map((t) => `<p><b>${esc(t.name)}</b></p><pre class="error">${esc(t.errors.join('\n\n') || 'failed without a message')}</pre>`)
        .join('\n')}${failedEvidence.map(terminal).join('\n')}</div>`
    : '';
  const link = seeAlso[d.id];
  const also = link ? `<p>See also <a href="${esc(link[0])}">${esc(link[1])}</a>.</p>` : '';
  const tests = d.tests.length ? `<h4>Proved by</h4><ul class="tests">${d.tests.map(testItem).join('\n')}</ul>` : '<p class="note">No test captured evidence for this deliverable.</p>';
  const evidence = otherEvidence.length ? `<h4>Evidence</h4>${otherEvidence.map(terminal).join('\n')}` : '';
  const at = when(d);
  return `<article id="d-${esc(d.id)}" class="deliverable ${esc(d.status.replace(' ', '-'))}" data-deliverable="${esc(d.id)}" data-status="${esc(d.status)}">
<h3>${badge(d.status)} ${esc(d.id)} — ${esc(d.title)}</h3>
<p class="meta">${at ? `${esc(at)} · ` : ''}${esc(Math.round(d.durationMs))} ms</p>
${failure}${judgement(d, live)}${also}${tests}${evidence}
</article>`;
}

const notCaptured = (what: string) => `<p class="note">${esc(what)} not captured in this run.</p>`;

function testTotals(run: RunSummary): string {
  const t = run.totals;
  if (!t) return notCaptured('Test totals');
  const count = (s: keyof typeof t) => `<div class="count ${s}"><b>${t[s]}</b>${s}</div>`;
  return `<div class="counts">${(['passed', 'failed', 'skipped', 'todo'] as const).map(count).join('')}${t.pending ? count('pending') : ''}</div>`;
}

/** Every failed test, deliverable or not: a red run must say what went wrong on its first screen. */
function failedTests(run: RunSummary): string {
  if (!run.failures.length) return '';
  const items = run.failures
    .map((t) => `<li><b>${esc(t.name)}</b> <span class="meta">${esc(t.file)}</span><pre class="error">${esc(clip(t.errors.join('\n\n') || 'failed without a message'))}</pre></li>`)
    .join('\n');
  return `<div class="failure"><h4>Failed tests</h4><ol class="failures">${items}</ol></div>`;
}

/** A catalogue's counts: pass and fail always, the other verdicts when there are any. */
function countTiles(results: DeliverableResult[]): string {
  const counts = countByStatus(results);
  return `<div class="counts">${(['pass', 'fail', 'missing', 'inconclusive', 'not graded'] as const)
    .filter((s) => counts[s] || s === 'pass' || s === 'fail')
    .map((s) => `<div class="count ${s.replace(' ', '-')}"><b>${counts[s]}</b>${s}</div>`)
    .join('')}</div>`;
}

function overview(results: DeliverableResult[]): string {
  const rows = results.map((d) => `<tr><td>${badge(d.status)}</td><td><a href="#d-${esc(d.id)}">${esc(d.id)}</a></td><td>${esc(d.title)}</td><td>${esc(d.tests.length)}</td></tr>`).join('\n');
  return `<table class="overview"><thead><tr><th>Status</th><th>Deliverable</th><th>Title</th><th>Tests</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** Course day 6's counts in the summary, apart from the seed's. */
function day6Summary(day6: DeliverableResult[] | undefined): string {
  if (!day6) return '';
  return `<h3 id="summary-day6"><a href="#day6">Course day 6: two hosts</a></h3>
<div data-catalogue="day6">${countTiles(day6)}</div>`;
}

function summary(input: ReportInput, run: RunSummary): string {
  const failures = [...input.results, ...(input.day6 ?? [])].filter((d) => d.status === 'fail');
  const runErrors = run.runErrors.length ? `<div class="failure"><h4>Run errors</h4><pre class="error">${esc(run.runErrors.join('\n\n'))}</pre></div>` : '';
  const failList = failures.length
    ? `<h4>Failing deliverables</h4><ol class="failures">${failures
        .map(
          (d) => `<li><a href="#d-${esc(d.id)}">${esc(d.id)}</a> — ${esc(d.title)}: <span class="meta">${esc(d.tests.find((t) => t.state === 'failed')?.errors[0]?.split('\n')[0] ?? '')}</span></li>`,
        )
        .join('\n')}</ol>`
    : '';
  return `<section id="summary" data-ok="${run.ok}"><h2>Summary</h2>
<h3>All tests of the run</h3>
${testTotals(run)}
${failedTests(run)}${runErrors}
<h3>Seed deliverables</h3>
<div data-catalogue="seed">${countTiles(input.results)}</div>${input.score ? `<p class="score" data-score="${input.score.points}/${input.score.max}"><b>score: ${input.score.points}/${input.score.max}</b>${input.score.graded < input.score.of ? ` (${input.score.graded} of ${input.score.of} deliverables graded)` : ''}</p>` : ''}
${failList}
${overview(input.results)}
${day6Summary(input.day6)}</section>`;
}

function matrixTable(m: Matrix | undefined): string {
  if (!m) return notCaptured('Reachability matrix');
  const cell = (from: string, to: string) => {
    const c = m.cells.find((x) => x.from === from && x.to === to);
    if (!c) return '<td>—</td>';
    const cls = c.expected !== c.received ? 'mismatch' : c.received ? 'reach' : 'block';
    const title = `${from} → ${to}: expected ${c.expected ? 'reachable' : 'blocked'}, got ${c.received ? 'reachable' : 'blocked'}`;
    return `<td class="${cls}" title="${esc(title)}">${c.received ? '✓' : '✗'}</td>`;
  };
  const head = m.nodes.map((n) => `<th>${esc(n)}</th>`).join('');
  const body = m.nodes.map((from) => `<tr><th>${esc(from)}</th>${m.nodes.map((to) => cell(from, to)).join('')}</tr>`).join('\n');
  return `<p>${esc(m.summary)}</p><p class="meta">Rows are sources, columns destinations; ✓ reachable, ✗ blocked; red marks a result that differs from the expectation.</p>
<table class="matrix"><thead><tr><th>from \\ to</th>${head}</tr></thead><tbody>
${body}
</tbody></table>`;
}

/**
 * The east-west truth table as Kubernetes' network-policy tests print theirs: sources down,
 * destinations across, one grid for the service ports and one for ICMP; red where what was
 * observed differs from what the topology's flows expect.
 */
function policyTables(p: PolicyTable | undefined): string {
  if (!p) return notCaptured('The east-west truth table');
  const grid = (proto: 'tcp' | 'icmp') => {
    const cells = p.cells.filter((c) => c.proto === proto);
    const order = (c: PolicyCell) => p.sources.indexOf(c.to);
    const cols = [...new Map(cells.map((c) => [`${c.to} ${c.address}`, c])).values()].sort((a, b) => order(a) - order(b));
    const head = cols.map((c) => `<th>${esc(c.to)}<br><code>${esc(c.address)}</code></th>`).join('');
    const td = (from: string, col: PolicyCell) => {
      const c = cells.find((x) => x.from === from && x.to === col.to && x.address === col.address);
      if (!c) return '<td>—</td>';
      const cls = c.expected !== c.observed ? 'mismatch' : c.observed ? 'reach' : 'block';
      const title = `${from} → ${c.to} ${c.address}: expected ${c.expected ? `allowed (${c.why ?? ''})` : 'denied'}, observed ${c.observed ? 'connected' : 'refused or dropped'}`;
      return `<td class="${cls}" title="${esc(title)}">${c.observed ? '✓' : '✗'}${c.expected !== c.observed ? ` (expected ${c.expected ? '✓' : '✗'})` : ''}</td>`;
    };
    const body = p.sources.map((from) => `<tr><th>${esc(from)}</th>${cols.map((col) => td(from, col)).join('')}</tr>`).join('\n');
    return `<table class="matrix"><thead><tr><th>from \\ to (${proto === 'tcp' ? 'TCP connect' : 'ICMP echo'})</th>${head}</tr></thead><tbody>
${body}
</tbody></table>`;
  };
  return `<p>${esc(p.summary)}</p><p class="meta">Policy <code>${esc(p.policy)}</code>, data layer ${esc(p.data)}. Expected from the topology's flows; observed by connecting from inside each source namespace. ✓ connected, ✗ refused or dropped; red marks a mismatch.</p>
${grid('tcp')}
${grid('icmp')}`;
}

/**
 * The course's traffic analysis: a burst of known size through host port 8080 and what the
 * observer counted on each pair, path pairs first, then every pair the path does not use (red
 * unless zero), with the charts.
 */
function trafficSection(c: TrafficCapture | undefined): string {
  if (!c) return notCaptured('The traffic analysis');
  const b = c.burst;
  const requests = b.requests
    .map(
      (r) =>
        `${esc(r.count)} × <code>${esc(r.method)} ${esc(r.path)}</code> (${Object.entries(r.statuses)
          .map(([s, n]) => `${esc(n)} × ${esc(s)}`)
          .join(', ')})`,
    )
    .join(', ');
  const span = ((Date.parse(b.endedAt) - Date.parse(b.startedAt)) / 1000).toFixed(1);
  const row = (r: TrafficCapture['rows'][number]) => {
    const silent = r.opened + r.packetsOut + r.packetsIn === 0;
    const cls = r.onPath ? (silent ? 'mismatch' : 'path') : silent ? 'offpath' : 'mismatch';
    const what = r.onPath ? `${esc(r.proto)}/${esc(r.port)}` : 'any';
    const why = r.onPath ? esc(r.why ?? '') : silent ? 'off the path: none' : 'off the path, yet it carried traffic';
    return `<tr class="${cls}" data-pair="${esc(`${r.from} → ${r.to}`)}" data-on-path="${r.onPath}"><td>${esc(r.from)} → ${esc(r.to)}</td><td>${what}</td><td>${why}</td><td>${esc(r.opened)}</td><td>${esc(r.packetsOut)}</td><td>${esc(formatBytes(r.bytesOut))}</td><td>${esc(r.packetsIn)}</td><td>${esc(formatBytes(r.bytesIn))}</td></tr>`;
  };
  return `<p>${esc(c.summary)}</p>
<p class="meta">Data layer ${esc(c.data)}. Sent from <code>${esc(b.from)}</code> to <code>${esc(b.target)}</code> at ${esc(b.startedAt)} in ${esc(span)} s: ${requests}; curl sent ${esc(formatBytes(b.requestBytes))} and received ${esc(formatBytes(b.responseBytes))}. Counted by <code>ecomnet observe</code> from each namespace's conntrack table (per-connection accounting), the observer's sample after the burst minus the one before; out is the originator's side, in the replies.</p>
<pre class="term"><span class="ps1">$ </span><span class="cmdline">${esc(b.command)}</span></pre>
<h4>Packets and bytes per pair of the path</h4>
${trafficBars(c.rows)}
<h4>Bytes per second, sample by sample</h4>
${trafficSeries(c)}
<table class="traffic"><thead><tr><th>Pair</th><th>Proto/port</th><th>Why</th><th>Connections opened</th><th>Packets out</th><th>Bytes out</th><th>Packets in</th><th>Bytes in</th></tr></thead><tbody>
${c.rows.map(row).join('\n')}
</tbody></table>`;
}

function rulesTable(rules: RuleDoc[] | undefined): string {
  if (!rules) return notCaptured('iptables rules');
  const rows = rules.map((r) => `<tr><td>${esc(r.table)}</td><td>${esc(r.chain)}</td><td class="rule">${esc(r.rule)}</td><td>${esc(r.why)}</td><td><code>${esc(r.id)}</code></td></tr>`).join('\n');
  return `<table class="rules"><thead><tr><th>Table</th><th>Chain</th><th>Rule (iptables-save)</th><th>Why</th><th>Id</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

function header(input: ReportInput, run: RunSummary): string {
  const m = input.meta;
  const mode = m ? `<span class="badge mode">mode: ${esc(m.mode)}</span>` : '<span class="badge missing">mode not captured</span>';
  const env = m ? `kernel ${esc(m.kernel)} · iptables ${esc(m.iptablesBackend)} · Node ${esc(m.node)} · platform up at ${esc(m.startedAt)}` : 'run environment not captured';
  // The verdict of the whole run leads: passing deliverables must not make a red run look green.
  const verdict = `<p class="verdict ${run.ok ? 'passed' : run.verdict === 'inconclusive' ? 'inconclusive' : 'failed'}" data-ok="${run.ok}">${esc(runLine(run))}${run.ok ? '' : ' — <a href="#summary">see the failures</a>'}</p>`;
  return `<header><h1>${esc(input.title)}: seed deliverables</h1>
${verdict}
<p class="meta">${mode} · report generated ${esc(input.generatedAt)}</p><p class="meta">${env}</p></header>`;
}

function byFeature(results: DeliverableResult[], live: LiveHost | undefined): string {
  const features = [...new Set(results.map((d) => d.feature))];
  return features
    .map(
      (f) =>
        `<h2 id="task-${esc(f.split(' ')[0])}">${esc(f)}</h2>\n${results
          .filter((d) => d.feature === f)
          .map((d) => deliverableCard(d, live))
          .join('\n')}`,
    )
    .join('\n');
}

/**
 * Course day 6's deliverables after the seed's: each with the tests that prove it and the commands
 * the day-6 grader ran on the two hosts. The seed's live host (diagram, diagnoses) is not theirs.
 */
function day6Section(day6: DeliverableResult[] | undefined): string {
  if (!day6) return '';
  return `<section id="day6" data-catalogue="day6"><h2>Course day 6: two hosts</h2>
<p class="meta">The lab across two hosts joined by a VXLAN, judged by the day-6 grader on ecomnet's own two-host platform; counted apart from the seed's deliverables.</p>
${countTiles(day6)}
${overview(day6)}
${day6.map((d) => deliverableCard(d)).join('\n')}
</section>`;
}

export function renderDeliverables(input: ReportInput, run: RunSummary = summarizeRun(input)): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)} deliverables${run.ok ? '' : `: run ${run.verdict === 'inconclusive' ? 'inconclusive' : 'failed'}`}</title>
<style>${css}</style></head>
<body><main>
${header(input, run)}
${summary(input, run)}
<section id="diagram"><h2>Network diagram, as discovered on the host</h2>${input.live ? input.live.svg : notCaptured('The live diagram (no platform suite read the host)')}</section>
<section id="matrix"><h2>Reachability matrix</h2>${matrixTable(input.matrix)}</section>
<section id="policy"><h2>East-west policy: truth table</h2>${policyTables(input.policy)}</section>
<section id="traffic"><h2>Traffic analysis</h2>${trafficSection(input.traffic)}</section>
<section id="rules"><h2>iptables rules</h2>${rulesTable(input.rules)}</section>
<div id="deliverables">
${byFeature(input.results, input.live)}
</div>
${day6Section(input.day6)}
</main></body></html>
`;
}
