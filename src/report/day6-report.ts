/**
 * The report of a graded two-host build (course day 6), written from gradeDay6's result in the
 * seed report's style: day6.html (the verdict, each host as discovered, each day-6 deliverable
 * with its reason, causes and the commands the grader ran with their output and exit code) and
 * day6.json (the result itself), with each host's build log beside them.
 */
import { day6DiagramSvg } from '../grader/day6/diagram.ts';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Day6Result } from '../grader/day6/grade.ts';
import type { Evidence, HostState } from '../grader/day6/discover.ts';
import { esc } from '../util/text.ts';
import { badge, clip } from './render.ts';
import { css } from './styles.ts';

export type Day6Verdict = 'pass' | 'fail' | 'inconclusive';

/** Pass when every day-6 deliverable passes; fail when one fails; else inconclusive (the grader could not judge one). */
export const day6Verdict = (r: Day6Result): Day6Verdict =>
  r.deliverables.some((d) => d.status === 'fail') ? 'fail' : r.deliverables.some((d) => d.status === 'inconclusive') ? 'inconclusive' : 'pass';

function terminal(e: Evidence): string {
  const exit = e.exitCode === 0 ? 'exit 0' : `<span class="bad">exit ${esc(e.exitCode)}</span>`;
  const gap = e.stdout && !e.stdout.endsWith('\n') ? '\n' : '';
  const stderr = e.stderr ? `${gap}<span class="stderr">${esc(clip(e.stderr))}</span>` : '';
  return `<figure class="cmd"><figcaption>on ${esc(e.host)} · ${exit}</figcaption>
<pre class="term"><span class="ps1">$ </span><span class="cmdline">${esc(e.command)}</span>
${esc(clip(e.stdout))}${stderr}</pre></figure>`;
}

function hostCard(h: HostState): string {
  const vx = h.vxlans.length
    ? `<table><thead><tr><th>VXLAN</th><th>VNI</th><th>UDP port</th><th>remote</th><th>dev</th><th>master</th><th>MTU</th><th>up</th></tr></thead><tbody>${h.vxlans
        .map(
          (x) =>
            `<tr><td>${esc(x.name)}</td><td>${esc(x.vni ?? '')}</td><td>${esc(x.port ?? '')}</td><td>${esc(x.remote ?? '')}</td><td>${esc(x.dev ?? '')}</td><td>${esc(x.master ?? '')}</td><td>${esc(x.mtu)}</td><td>${x.up ? 'yes' : 'no'}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="note">No VXLAN device.</p>';
  const ns = h.namespaces.map((n) => `${n.name} ${n.links.map((l) => `${l.ifname} ${l.addresses.join(' ')} mtu ${l.mtu}`).join(', ')}`);
  return `<article data-host="${esc(h.name)}"><h3>${esc(h.name)}</h3>
<p class="meta">underlay ${esc(h.underlay.join(', ') || 'no address')} · ${esc(h.namespaces.length)} namespace(s)${h.udpDrops.length ? ` · drops VXLAN's UDP: <code>${esc(h.udpDrops.join(' | '))}</code>` : ''}</p>
${vx}${ns.length ? `<pre class="meta">${esc(ns.join('\n'))}</pre>` : ''}</article>`;
}

function deliverableCard(d: Day6Result['deliverables'][number], r: Day6Result): string {
  const causes = r.diagnoses.filter((f) => d.causes.includes(f.id));
  const failure = d.reason ? `<div class="failure"><h4>Failure</h4><pre class="error">${esc(d.reason)}</pre></div>` : '';
  const diagnosis = causes.length
    ? `<div class="diagnosis"><h4>Diagnosis</h4><ul>${causes.map((c) => `<li data-diagnosis="${esc(c.id)}">${esc(c.cause)}<br>fix: <code>${esc(c.fix)}</code></li>`).join('')}</ul></div>`
    : '';
  const evidence = d.evidence.length ? `<h4>Evidence</h4>${d.evidence.map(terminal).join('\n')}` : '<p class="note">No command ran for this deliverable.</p>';
  return `<article id="d-${esc(d.id)}" class="deliverable ${esc(d.status)}" data-deliverable="${esc(d.id)}" data-status="${esc(d.status)}">
<h3>${badge(d.status)} ${esc(d.id)} — ${esc(d.title)}</h3>
${failure}${diagnosis}${evidence}
</article>`;
}

export function renderDay6(r: Day6Result, o: { errors?: string[]; logs?: string[]; generatedAt?: string } = {}): string {
  const verdict = day6Verdict(r);
  const count = (s: Day6Verdict) => r.deliverables.filter((d) => d.status === s).length;
  const rows = r.deliverables.map((d) => `<tr><td>${badge(d.status)}</td><td><a href="#d-${esc(d.id)}">${esc(d.id)}</a></td><td>${esc(d.title)}</td></tr>`).join('\n');
  // A fault nothing failed of yet is still worth fixing: every cause is listed, not only those explaining a failure.
  const diagnoses = r.diagnoses.length
    ? `<div class="diagnosis"><h4>Causes</h4><ul>${r.diagnoses.map((f) => `<li data-diagnosis="${esc(f.id)}">${esc(f.cause)}<br>fix: <code>${esc(f.fix)}</code>${f.deliverables.length ? `<br><span class="meta">explains: ${esc(f.deliverables.join(', '))}</span>` : ''}</li>`).join('')}</ul></div>`
    : '';
  const errors = o.errors?.length ? `<div class="failure"><h4>Run errors</h4><pre class="error">${esc(o.errors.join('\n'))}</pre></div>` : '';
  const logs = o.logs?.length ? `<p class="meta">Build output: ${o.logs.map((l) => `<a href="${esc(l)}">${esc(l)}</a>`).join(' · ')}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>verify --two-hosts: course day 6${verdict === 'pass' ? '' : ': failed'}</title>
<style>${css}</style></head>
<body><main>
<header><h1>verify --two-hosts: course day 6, the lab across two hosts</h1>
<p class="verdict ${verdict === 'pass' ? 'passed' : 'failed'}" data-verdict="${verdict}">${count('pass')} of ${r.deliverables.length} day-6 deliverables pass${verdict === 'pass' ? '' : ' — <a href="#summary">see the failures</a>'}</p>
<p class="meta">report generated ${esc(o.generatedAt ?? new Date().toISOString())} · graded in ${esc((r.durationMs / 1000).toFixed(1))} s</p>${logs}</header>
<section id="summary" data-ok="${verdict === 'pass'}"><h2>Summary</h2>
<div class="counts"><div class="count pass"><b>${count('pass')}</b>pass</div><div class="count fail"><b>${count('fail')}</b>fail</div></div>
${errors}${diagnoses}
<table class="overview"><thead><tr><th>Status</th><th>Deliverable</th><th>Title</th></tr></thead><tbody>
${rows}
</tbody></table></section>
<section id="hosts"><h2>The hosts, as discovered</h2>${r.hosts.length === 2 ? `<figure class="diagram">${day6DiagramSvg(r.hosts[0]!, r.hosts[1]!)}</figure>` : ''}${r.hosts.map(hostCard).join('\n')}</section>
<div id="deliverables"><h2>Day 6 deliverables</h2>
${r.deliverables.map((d) => deliverableCard(d, r)).join('\n')}
</div>
</main></body></html>
`;
}

/** Writes day6.html and day6.json into `dir`, and copies each build log there; returns the page's path. */
export function writeDay6Reports(r: Day6Result, dir: string, o: { errors?: string[]; logs?: string[] } = {}): string {
  mkdirSync(dir, { recursive: true });
  const logs = (o.logs ?? []).filter(existsSync);
  for (const l of logs) if (join(dir, basename(l)) !== l) copyFileSync(l, join(dir, basename(l)));
  writeFileSync(join(dir, 'day6.html'), renderDay6(r, { ...(o.errors ? { errors: o.errors } : {}), logs: logs.map((l) => basename(l)) }));
  writeFileSync(join(dir, 'day6.json'), `${JSON.stringify({ verdict: day6Verdict(r), errors: o.errors ?? [], ...r }, null, 2)}\n`);
  return join(dir, 'day6.html');
}
