/**
 * The class report: every build × every deliverable, as a page (class.html: each failure with
 * the causes the grader named, the causes most builds share, a link to each build's own report),
 * a spreadsheet (class.csv) and data (class.json, what a merge of slices reads back).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassResult } from '../grader/class.ts';
import { deliverables } from '../grader/deliverables.ts';
import type { Status } from '../grader/grade.ts';
import { esc } from '../util/text.ts';
import { css } from './styles.ts';

const MARK: Record<Status, string> = { pass: '✓', fail: '✗', inconclusive: '?', 'not graded': '–' };

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
const field = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function classCsv(c: ClassResult): string {
  const head = ['build', 'points', 'max', 'verdict', 'build exit', ...deliverables.map((d) => d.id), 'causes'];
  const rows = c.rows.map((r) => [
    r.name,
    r.score.points,
    r.score.max,
    r.verdict,
    r.buildExit ?? 'timeout',
    ...deliverables.map((d) => {
      const x = r.deliverables[d.id];
      return x ? `${x.status}${x.causes?.length ? ` (${x.causes.join(' ')})` : ''}` : '';
    }),
    r.causes.map((f) => f.id).join(' '),
  ]);
  return `${[head, ...rows].map((row) => row.map(field).join(',')).join('\n')}\n`;
}

/** Causes by how many builds they were named for, most first. */
function commonCauses(c: ClassResult): { id: string; builds: string[]; example: string }[] {
  const by = new Map<string, { builds: string[]; example: string }>();
  for (const r of c.rows)
    for (const f of r.causes) {
      const e = by.get(f.id) ?? { builds: [], example: f.cause };
      e.builds.push(r.name);
      by.set(f.id, e);
    }
  return [...by.entries()].map(([id, e]) => ({ id, ...e })).sort((a, b) => b.builds.length - a.builds.length || a.id.localeCompare(b.id));
}

export function classHtml(c: ClassResult): string {
  const cell = (r: ClassResult['rows'][number], id: string) => {
    const x = r.deliverables[id];
    if (!x) return '<td>–</td>';
    const cls = x.status.replace(' ', '-');
    const title = [x.status, ...(x.causes ?? []), ...(x.reason && x.status !== 'pass' ? [x.reason.split('\n')[0]!] : [])].join(' · ');
    return `<td class="cell ${cls}" title="${esc(title)}" data-status="${esc(x.status)}">${MARK[x.status]}</td>`;
  };
  const head = deliverables.map((d) => `<th title="${esc(d.title)}"><span>${esc(d.id)}</span></th>`).join('');
  const rows = c.rows
    .map(
      (r) =>
        `<tr data-build="${esc(r.name)}"><th><a href="${esc(r.reports)}/deliverables.html">${esc(r.name)}</a></th><td class="score">${r.score.points}/${r.score.max}</td>${deliverables.map((d) => cell(r, d.id)).join('')}<td class="causes">${esc(r.causes.map((f) => f.id).join(', ') || (r.errors[0] ?? ''))}</td></tr>`,
    )
    .join('\n');
  const passing = deliverables.map((d) => `<td>${c.rows.filter((r) => r.deliverables[d.id]?.status === 'pass').length}</td>`).join('');
  const causes = commonCauses(c)
    .map((x) => `<li><b>${esc(x.id)}</b>: ${x.builds.length} build${x.builds.length === 1 ? '' : 's'} (${esc(x.builds.join(', '))}) — e.g. ${esc(x.example)}</li>`)
    .join('\n');
  const total = c.rows.reduce((s, r) => s + r.score.points, 0);
  const max = c.rows.reduce((s, r) => s + r.score.max, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>class report: ${c.rows.length} builds</title>
<style>${css}
table.class { border-collapse: collapse; font-size: 12px; } table.class th, table.class td { border: 1px solid var(--line); padding: 3px 5px; text-align: center; }
table.class thead th span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
td.cell.pass { color: var(--pass); } td.cell.fail { color: #fff; background: var(--fail); } td.cell.inconclusive { background: var(--unknown); color: #fff; } td.cell.not-graded { color: var(--ungraded); }
td.causes { text-align: left; font-size: 11px; } main { max-width: none; }</style></head>
<body><main>
<header><h1>Class report: ${c.rows.length} builds graded</h1>
<p class="meta">${esc(c.generatedAt)} · ${c.only ? `graded: ${esc(c.only)} · ` : ''}${total}/${max} points in all · each build in a virtual host of its own · ${(c.durationMs / 1000).toFixed(1)} s</p></header>
<section><h2>Builds × deliverables</h2>
<table class="class"><thead><tr><th>build</th><th>score</th>${head}<th>causes named</th></tr></thead><tbody>
${rows}
<tr class="totals"><th>passing</th><td></td>${passing}<td></td></tr>
</tbody></table>
<p class="meta">✓ pass · ✗ fail (hover: the causes the grader named) · ? inconclusive (the grader could not judge) · – not graded. Each build's name opens its own report.</p></section>
<section><h2>Causes, by how many builds they explain</h2><ol>${causes || '<li>none: every graded deliverable passed</li>'}</ol></section>
</main></body></html>
`;
}

/** Writes class.html, class.csv and class.json into `dir`; returns the page's path. */
export function writeClassReports(c: ClassResult, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'class.json'), `${JSON.stringify(c, null, 2)}\n`);
  writeFileSync(join(dir, 'class.csv'), classCsv(c));
  writeFileSync(join(dir, 'class.html'), classHtml(c));
  return join(dir, 'class.html');
}
