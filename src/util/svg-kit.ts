/**
 * The drawing kit the two network diagrams share: the topology's picture
 * (src/report/topology-diagram.ts) and the host as found (src/grader/live-diagram.ts), so both
 * look the same and neither module depends on the other.
 */
import { esc } from './text.ts';

export const W = 1000;

export const Y = {
  outsideTop: 30,
  nodeH: 64,
  uplink: 150,
  hostTop: 124,
  natTop: 212,
  natH: 104,
  app: 372,
  hostBottom: 420,
  appTop: 470,
  barH: 24,
  height: 580,
};

/** The two rule boxes: x and width, with the column each path runs through. */
export const DNAT_BOX = { x: 150, w: 380, via: 200 };

export const MASQ_BOX = { x: 560, w: 400, via: 700 };

/** Paths run beside the veth lines, not over them. */
export const PATH_OFFSET = 24;

export const DNAT = '#2563eb';

export const MASQ = '#ea580c';

/** A part that differs from what it should be. */
export const RED = '#dc2626';

/** Centres spread across the width, so any node count lays out without overlap. */
export function centres(count: number, boxW: number): number[] {
  if (count === 1) return [W / 2];
  const first = 20 + boxW / 2;
  const step = (W - 2 * first) / (count - 1);
  return Array.from({ length: count }, (_, i) => first + i * step);
}

/** A namespace box's three lines; with a fault it is drawn red and the fault replaces the note. */
export interface BoxText {
  name: string;
  address: string;
  note: string;
  fault?: string;
}

/** A box in the namespace row, or (`outside`) one that stands for no namespace and so carries no data-node. */
export function nodeBox(b: BoxText, cx: number, top: number, boxW: number, role: 'ns' | 'outside' = 'ns'): string {
  const x = cx - boxW / 2;
  const [fill, stroke, ink] = b.fault ? ['#fef2f2', RED, RED] : ['#fff', '#334155', '#475569'];
  return `<g class="${role}${b.fault ? ' fault' : ''}"${role === 'ns' ? ` data-node="${esc(b.name)}"` : ''}>
<rect x="${x}" y="${top}" width="${boxW}" height="${Y.nodeH}" rx="8" fill="${fill}" stroke="${stroke}" stroke-width="1.5"/>
<text x="${cx}" y="${top + 20}" text-anchor="middle" font-weight="700" font-size="13">${esc(b.name)}</text>
<text x="${cx}" y="${top + 38}" text-anchor="middle" font-size="12" font-family="monospace">${esc(b.address)}</text>
<text x="${cx}" y="${top + 54}" text-anchor="middle" font-size="10" fill="${ink}">${esc(b.fault ? `✗ ${b.fault}` : b.note)}</text>
</g>`;
}

/** A bridge across the width, labelled `label`; red, with the fault after the label, when it has one. */
export function bar(name: string, label: string, y: number, fault?: string): string {
  return `<g class="bridge${fault ? ' fault' : ''}" data-bridge="${esc(name)}">
<rect x="20" y="${y}" width="${W - 40}" height="${Y.barH}" rx="4" fill="${fault ? RED : '#0f766e'}"/>
<text x="${W / 2}" y="${y + 16}" text-anchor="middle" fill="#fff" font-size="12" font-weight="700">${esc(fault ? `${label} ✗ ${fault}` : label)}</text>
</g>`;
}

/** A veth pair's two ends: in the namespace and on the bridge. */
export interface VethEnds {
  inside: string;
  onBridge: string;
}

/** A veth pair as a line; red and dashed, the fault half way along, when it has one. */
export function veth(ends: VethEnds, cx: number, y1: number, y2: number, nsAtTop: boolean, side: 'left' | 'right', fault?: string): string {
  const [nsY, brY] = nsAtTop ? [y1 + 12, y2 - 4] : [y2 - 4, y1 + 12];
  // Labels go on the side away from the traffic paths, which run beside the line.
  const [x, anchor] = side === 'left' ? [cx - 5, 'end'] : [cx + 5, 'start'];
  const [line, ink, dash] = fault ? [RED, RED, ' stroke-dasharray="4 3"'] : ['#64748b', '#334155', ''];
  const label = (y: number, text: string) => `<text x="${x}" y="${y}" text-anchor="${anchor}" font-size="9" font-family="monospace" fill="${ink}">${esc(text)}</text>`;
  return `<g class="veth${fault ? ' fault' : ''}"><line x1="${cx}" y1="${y1}" x2="${cx}" y2="${y2}" stroke="${line}" stroke-width="2"${dash}/>
${label(nsY, ends.inside)}
${label(brY, ends.onBridge)}${fault ? `\n${label((y1 + y2) / 2 + 3, `✗ ${fault}`)}` : ''}</g>`;
}

export function path(points: [number, number][], color: string, dashed: boolean, marker: string): string {
  const d = points.map(([x, y], i) => `${i ? 'L' : 'M'}${x} ${y}`).join(' ');
  const dash = dashed ? ' stroke-dasharray="8 5"' : '';
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="4" stroke-opacity="0.75"${dash} marker-end="url(#${marker})"/>`;
}

export function natBox(x: number, w: number, title: string, lines: string[], color: string): string {
  const text = lines.map((l, i) => `<text x="${x + w / 2}" y="${Y.natTop + 44 + i * 18}" text-anchor="middle" font-size="11" font-family="monospace">${esc(l)}</text>`).join('\n');
  return `<g class="nat"><rect x="${x}" y="${Y.natTop}" width="${w}" height="${Y.natH}" rx="8" fill="#fff" stroke="${color}" stroke-width="2"/>
<text x="${x + w / 2}" y="${Y.natTop + 22}" text-anchor="middle" font-size="12" font-weight="700" fill="${color}">${esc(title)}</text>
${text}</g>`;
}

/** Egress leaves br-app, is masqueraded on the host and reaches the internet host. */
export function masqPath(toX: number, outBottom: number): string {
  const mid = Y.natTop + Y.natH / 2;
  return path(
    [
      [MASQ_BOX.via, Y.app],
      [MASQ_BOX.via, mid],
      [toX, mid],
      [toX, outBottom + 2],
    ],
    MASQ,
    true,
    'arrow-masq',
  );
}

/** The SVG element's opening: size, accessible name and title, and the path arrows. */
export function svgOpen(label: string, title: string, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(label)}" font-family="system-ui, sans-serif">
<title>${esc(title)}</title>
<defs>
<marker id="arrow-dnat" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${DNAT}"/></marker>
<marker id="arrow-masq" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${MASQ}"/></marker>
</defs>`;
}

/** Mermaid identifiers allow no dashes; labels carry the real names. */
export function mid(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export function mlabel(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}
