/**
 * The traffic analysis' charts as inline SVG, drawn here from the capture: the report is a file
 * opened from disk and fetches nothing, so no chart library can be loaded into it.
 */
import { esc } from '../util/text.ts';
import { pairLabel } from './traffic.ts';
import type { TrafficCapture, TrafficRow } from './types.ts';

/** One colour per path pair, in the request's order (colour-blind-safe Tableau 10). */
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const colour = (i: number) => COLOURS[i % COLOURS.length]!;

/** Decimal units (1 kB = 1000 B), unlike the observer's KiB: the report's axes tick at powers of ten. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The smallest 1, 2 or 5 x 10^k at or above v, so an axis ends on a round number. */
function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

/** Bars for each path pair: packets and bytes, the originator's side (out) over the replies (in). */
export function trafficBars(rows: TrafficRow[]): string {
  const path = rows.filter((r) => r.onPath);
  const labelW = 290;
  const panelW = 330;
  const gap = 30;
  const rowH = 40;
  const top = 34;
  const width = labelW + 2 * panelW + gap + 20;
  const height = top + path.length * rowH + 28;
  const panels = [
    { title: 'packets', out: (r: TrafficRow) => r.packetsOut, in: (r: TrafficRow) => r.packetsIn, fmt: (n: number) => String(n) },
    { title: 'bytes', out: (r: TrafficRow) => r.bytesOut, in: (r: TrafficRow) => r.bytesIn, fmt: formatBytes },
  ];
  const parts: string[] = [];
  panels.forEach((p, k) => {
    const x0 = labelW + k * (panelW + gap);
    const max = niceCeil(Math.max(1, ...path.flatMap((r) => [p.out(r), p.in(r)])));
    const scale = (v: number) => (v / max) * (panelW - 70);
    parts.push(`<text x="${x0}" y="16" class="h">${esc(p.title)} (axis to ${esc(p.fmt(max))})</text>`);
    parts.push(`<line x1="${x0}" y1="${top - 6}" x2="${x0}" y2="${top + path.length * rowH}" class="axis"/>`);
    path.forEach((r, i) => {
      const y = top + i * rowH;
      const bar = (v: number, dy: number, dir: 'out' | 'in') =>
        `<rect x="${x0}" y="${y + dy}" width="${scale(v).toFixed(1)}" height="14" fill="${colour(i)}"${dir === 'in' ? ' fill-opacity="0.5"' : ''} data-pair="${esc(pairLabel(r))}" data-dir="${dir}" data-value="${v}"><title>${esc(`${pairLabel(r)} ${p.title} ${dir}: ${p.fmt(v)}`)}</title></rect><text x="${(x0 + scale(v) + 4).toFixed(1)}" y="${y + dy + 11}" class="v">${esc(`${dir} ${p.fmt(v)}`)}</text>`;
      parts.push(bar(p.out(r), 2, 'out'), bar(p.in(r), 18, 'in'));
    });
  });
  const labels = path.map((r, i) => `<text x="${labelW - 8}" y="${top + i * rowH + 22}" text-anchor="end" class="l">${esc(pairLabel(r))}</text>`);
  return `<svg class="chart" data-chart="traffic-bars" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="packets and bytes per pair of the request path during the burst" xmlns="http://www.w3.org/2000/svg">
<style>.h{font:600 13px system-ui,sans-serif}.l{font:12px ui-monospace,monospace}.v{font:11px system-ui,sans-serif;fill:#334155}.axis{stroke:#94a3b8}</style>
${labels.join('\n')}
${parts.join('\n')}
<text x="${labelW}" y="${height - 8}" class="v">solid: the originator's side (out); pale: the replies (in)</text>
</svg>`;
}

/** Bytes per second of each path pair, sample by sample, the burst's span shaded. */
export function trafficSeries(c: TrafficCapture): string {
  const { t, lines } = c.series;
  const width = 1000;
  const height = 320;
  const m = { left: 70, right: 300, top: 20, bottom: 40 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const span = (Date.parse(c.burst.endedAt) - Date.parse(c.burst.startedAt)) / 1000;
  const tMin = Math.min(0, ...t);
  const tMax = Math.max(span, ...t, tMin + 1);
  const yMax = niceCeil(Math.max(1, ...lines.flatMap((l) => l.bytesPerSecond)));
  const x = (v: number) => m.left + ((v - tMin) / (tMax - tMin)) * w;
  const y = (v: number) => m.top + h - (v / yMax) * h;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xStep = tMax - tMin > 12 ? 2 : tMax - tMin > 4 ? 1 : 0.5;
  const xTicks: number[] = [];
  for (let v = Math.ceil(tMin); v <= tMax; v += xStep) xTicks.push(v);
  const grid = [
    ...yTicks.map(
      (v) =>
        `<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="v">${esc(`${formatBytes(v)}/s`)}</text>`,
    ),
    ...xTicks.map((v) => `<text x="${x(v).toFixed(1)}" y="${m.top + h + 16}" text-anchor="middle" class="v">${v}</text>`),
  ];
  const shade = `<rect x="${x(0).toFixed(1)}" y="${m.top}" width="${Math.max(2, x(span) - x(0)).toFixed(1)}" height="${h}" class="burst"><title>the burst: ${esc(span.toFixed(1))} s</title></rect>`;
  const paths = lines.map((l, i) => {
    const pts = l.bytesPerSecond.map((v, j) => `${x(t[j]!).toFixed(1)},${y(v).toFixed(1)}`);
    const dots = pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.5" fill="${colour(i)}"/>`).join('');
    return `<g data-line="${esc(l.pair)}"><polyline points="${pts.join(' ')}" fill="none" stroke="${colour(i)}" stroke-width="2"/>${dots}</g>`;
  });
  const legend = lines.map(
    (l, i) =>
      `<g><rect x="${m.left + w + 16}" y="${m.top + i * 20}" width="12" height="12" fill="${colour(i)}"/><text x="${m.left + w + 34}" y="${m.top + i * 20 + 10}" class="l">${esc(l.pair)}</text></g>`,
  );
  return `<svg class="chart" data-chart="traffic-series" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="bytes per second of each path pair around the burst" xmlns="http://www.w3.org/2000/svg">
<style>.l{font:12px ui-monospace,monospace}.v{font:11px system-ui,sans-serif;fill:#334155}.grid{stroke:#e2e8f0}.burst{fill:#fde68a;fill-opacity:.45}.axis{stroke:#94a3b8}</style>
${shade}
${grid.join('\n')}
<line x1="${m.left}" y1="${m.top + h}" x2="${m.left + w}" y2="${m.top + h}" class="axis"/><line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + h}" class="axis"/>
${paths.join('\n')}
${legend.join('\n')}
<text x="${m.left + w / 2}" y="${height - 6}" text-anchor="middle" class="v">seconds from the burst's start (shaded: the burst), one point per observer sample; bytes both ways</text>
</svg>`;
}
