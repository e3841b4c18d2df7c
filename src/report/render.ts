/**
 * deliverables.html as a pure function of the run: summary, diagram, reachability matrix,
 * iptables rules, then each seed deliverable with the tests and terminal output that prove it.
 */
import { diagramSvg } from './diagram.ts';
import { esc } from './html.ts';
import { countByStatus, sameTest } from './results.ts';
import { css } from './styles.ts';
import type { DeliverableResult, EvidenceRecord, Matrix, ReportInput, RuleDoc, TestOutcome } from './types.ts';

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

function clip(text: string): string {
  return text.length <= MAX_STREAM ? text : `${text.slice(0, MAX_STREAM)}\n… (${text.length - MAX_STREAM} more characters)`;
}

function badge(status: string): string {
  return `<span class="badge ${esc(status)}">${esc(status.toUpperCase())}</span>`;
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

function deliverableCard(d: DeliverableResult): string {
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
  const tests = d.tests.length
    ? `<h4>Proved by</h4><ul class="tests">${d.tests.map(testItem).join('\n')}</ul>`
    : '<p class="note">No test captured evidence for this deliverable.</p>';
  const evidence = otherEvidence.length ? `<h4>Evidence</h4>${otherEvidence.map(terminal).join('\n')}` : '';
  const at = when(d);
  return `<article id="d-${esc(d.id)}" class="deliverable ${esc(d.status)}" data-deliverable="${esc(d.id)}" data-status="${esc(d.status)}">
<h3>${badge(d.status)} ${esc(d.id)} — ${esc(d.title)}</h3>
<p class="meta">${at ? `${esc(at)} · ` : ''}${esc(Math.round(d.durationMs))} ms</p>
${failure}${also}${tests}${evidence}
</article>`;
}

function summary(input: ReportInput): string {
  const counts = countByStatus(input.results);
  const failures = input.results.filter((d) => d.status === 'fail');
  const runErrors = input.runErrors.length
    ? `<div class="failure"><h4>Run errors</h4><pre class="error">${esc(input.runErrors.join('\n\n'))}</pre></div>`
    : '';
  const failList = failures.length
    ? `<h4>Failing deliverables</h4><ol class="failures">${failures
        .map((d) => `<li><a href="#d-${esc(d.id)}">${esc(d.id)}</a> — ${esc(d.title)}: <span class="meta">${esc(d.tests.find((t) => t.state === 'failed')?.errors[0]?.split('\n')[0] ?? '')}</span></li>`)
        .join('\n')}</ol>`
    : '';
  const rows = input.results
    .map((d) => `<tr><td>${badge(d.status)}</td><td><a href="#d-${esc(d.id)}">${esc(d.id)}</a></td><td>${esc(d.title)}</td><td>${esc(d.tests.length)}</td></tr>`)
    .join('\n');
  return `<section id="summary"><h2>Summary</h2>
<div class="counts">${(['pass', 'fail', 'missing'] as const).map((s) => `<div class="count ${s}"><b>${counts[s]}</b>${s}</div>`).join('')}</div>
${runErrors}${failList}
<table class="overview"><thead><tr><th>Status</th><th>Deliverable</th><th>Title</th><th>Tests</th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

const notCaptured = (what: string) => `<p class="note">${esc(what)} not captured in this run.</p>`;

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

function rulesTable(rules: RuleDoc[] | undefined): string {
  if (!rules) return notCaptured('iptables rules');
  const rows = rules
    .map((r) => `<tr><td>${esc(r.table)}</td><td>${esc(r.chain)}</td><td class="rule">${esc(r.rule)}</td><td>${esc(r.why)}</td><td><code>${esc(r.id)}</code></td></tr>`)
    .join('\n');
  return `<table class="rules"><thead><tr><th>Table</th><th>Chain</th><th>Rule (iptables-save)</th><th>Why</th><th>Id</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

function header(input: ReportInput): string {
  const m = input.meta;
  const mode = m ? `<span class="badge mode">mode: ${esc(m.mode)}</span>` : '<span class="badge missing">mode not captured</span>';
  const env = m
    ? `kernel ${esc(m.kernel)} · iptables ${esc(m.iptablesBackend)} · Node ${esc(m.node)} · platform up at ${esc(m.startedAt)}`
    : 'run environment not captured';
  return `<header><h1>${esc(input.topology.tag)}: seed deliverables</h1>
<p class="meta">${mode} · report generated ${esc(input.generatedAt)}</p><p class="meta">${env}</p></header>`;
}

function byFeature(results: DeliverableResult[]): string {
  const features = [...new Set(results.map((d) => d.feature))];
  return features
    .map((f) => `<h2 id="task-${esc(f.split(' ')[0])}">${esc(f)}</h2>\n${results.filter((d) => d.feature === f).map(deliverableCard).join('\n')}`)
    .join('\n');
}

export function renderDeliverables(input: ReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.topology.tag)} deliverables</title>
<style>${css}</style></head>
<body><main>
${header(input)}
${summary(input)}
<section id="diagram"><h2>Network diagram</h2>${diagramSvg(input.topology)}</section>
<section id="matrix"><h2>Reachability matrix</h2>${matrixTable(input.matrix)}</section>
<section id="rules"><h2>iptables rules</h2>${rulesTable(input.rules)}</section>
<div id="deliverables">
${byFeature(input.results)}
</div>
</main></body></html>
`;
}
