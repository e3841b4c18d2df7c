/**
 * The network drawn from the topology (never from literals): as SVG for the HTML report and
 * as Mermaid for `ecomnet diagram`. Both are pure so tests can check every node and address.
 * The drawing pieces are exported for the live diagram (src/grader/live-diagram.ts), which draws the
 * same picture from what the host holds, in red where that differs from the seed.
 */
import { nodeNamed } from '../topology/default.ts';
import type { NodeSpec, PortForward, Topology } from '../topology/types.ts';
import { esc } from './html.ts';
import { peerName } from '../topology/validate.ts';

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

export function dnatText(t: Topology, pf: PortForward): string {
  return `tcp dport ${pf.hostPort} → DNAT ${nodeNamed(pf.node, t).ip}:${pf.port}`;
}

export function masqueradeText(t: Topology): string {
  return `-s ${t.app.subnet} ! -o ${t.app.bridge.name} → MASQUERADE`;
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

const declaredBox = (n: NodeSpec): BoxText => ({ name: n.name, address: n.ip + (n.port === undefined ? '' : `:${n.port}`), note: n.role });

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

const declaredVeth = (n: NodeSpec): VethEnds => ({ inside: n.veth, onBridge: peerName(n.veth) });

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

export function diagramSvg(t: Topology): string {
  const appW = Math.min(150, (W - 40) / t.app.nodes.length - 10);
  const outW = 190;
  const appX = centres(t.app.nodes.length, appW);
  const outX = centres(t.outside.nodes.length, outW);
  const xOf = (name: string) => {
    const i = t.app.nodes.findIndex((n) => n.name === name);
    if (i >= 0) return appX[i]!;
    return outX[
      Math.max(
        0,
        t.outside.nodes.findIndex((n) => n.name === name),
      )
    ]!;
  };
  // The outside segment lists the external client first and the internet host last.
  const client = t.outside.nodes[0];
  const internet = t.outside.nodes[t.outside.nodes.length - 1];
  const outBottom = Y.outsideTop + Y.nodeH;

  // Paths go first so the boxes cover them: they read as entering and leaving each box.
  const paths = [
    ...t.portForwards.map((pf) => {
      const from = (client ? xOf(client.name) : DNAT_BOX.via) + PATH_OFFSET;
      const to = xOf(pf.node) + PATH_OFFSET;
      const via = DNAT_BOX.via;
      const points: [number, number][] = [
        [from, outBottom],
        [from, Y.natTop - 20],
        [via, Y.natTop - 20],
        [via, Y.app - 20],
        [to, Y.app - 20],
        [to, Y.appTop - 2],
      ];
      return path(points, DNAT, false, 'arrow-dnat');
    }),
    internet ? masqPath(xOf(internet.name) - PATH_OFFSET, outBottom) : '',
  ];
  const entry = client
    ? t.portForwards.map(
        (pf) =>
          `<text x="${xOf(client.name) + PATH_OFFSET + 6}" y="${Y.uplink + Y.barH + 14}" font-size="10" font-family="monospace" fill="${DNAT}">${esc(`→ ${t.outside.bridge.ip}:${pf.hostPort}`)}</text>`,
      )
    : [];
  const forwards = t.portForwards.flatMap((pf) => [`nat PREROUTING ${dnatText(t, pf)}`, `filter FORWARD ACCEPT → ${nodeNamed(pf.node, t).ip}:${pf.port}`]);

  return `${svgOpen(`${t.tag} network diagram`, `${t.tag}: ${t.app.bridge.name} ${t.app.subnet} and ${t.outside.bridge.name} ${t.outside.subnet}`, Y.height)}
<rect x="8" y="${Y.hostTop}" width="${W - 16}" height="${Y.hostBottom - Y.hostTop}" rx="10" fill="#f8fafc" stroke="#94a3b8" stroke-dasharray="6 4"/>
<text x="${W / 2}" y="${Y.hostTop + 16}" text-anchor="middle" font-size="11" fill="#475569">host root namespace · net.ipv4.ip_forward=1</text>
${t.outside.nodes.map((n, i) => veth(declaredVeth(n), outX[i]!, outBottom, Y.uplink, true, i > 0 && n === internet ? 'right' : 'left')).join('\n')}
${t.app.nodes.map((n, i) => veth(declaredVeth(n), appX[i]!, Y.app + Y.barH, Y.appTop, false, 'left')).join('\n')}
${paths.join('\n')}
${bar(t.outside.bridge.name, `${t.outside.bridge.name} ${t.outside.bridge.ip} · ${t.outside.subnet}`, Y.uplink)}
${bar(t.app.bridge.name, `${t.app.bridge.name} ${t.app.bridge.ip} · ${t.app.subnet}`, Y.app)}
${natBox(DNAT_BOX.x, DNAT_BOX.w, 'port forwarding (DNAT)', forwards, DNAT)}
${natBox(MASQ_BOX.x, MASQ_BOX.w, 'egress (MASQUERADE)', [`nat POSTROUTING ${masqueradeText(t)}`], MASQ)}
${entry.join('\n')}
${t.outside.nodes.map((n, i) => nodeBox(declaredBox(n), outX[i]!, Y.outsideTop, outW)).join('\n')}
${t.app.nodes.map((n, i) => nodeBox(declaredBox(n), appX[i]!, Y.appTop, appW)).join('\n')}
<g font-size="11"><line x1="24" y1="${Y.height - 14}" x2="54" y2="${Y.height - 14}" stroke="${DNAT}" stroke-width="4"/><text x="60" y="${Y.height - 10}">external client → host:${esc(t.portForwards.map((p) => p.hostPort).join(','))} → DNAT</text>
<line x1="330" y1="${Y.height - 14}" x2="360" y2="${Y.height - 14}" stroke="${MASQ}" stroke-width="4" stroke-dasharray="8 5"/><text x="366" y="${Y.height - 10}">namespace egress → MASQUERADE → internet</text></g>
</svg>`;
}

/** Mermaid identifiers allow no dashes; labels carry the real names. */
export function mid(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export function mlabel(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

export function diagramMermaid(t: Topology): string {
  const node = (n: NodeSpec) => `    ${mid(n.name)}[${mlabel(`${n.name}<br/>${n.ip}${n.port === undefined ? '' : `:${n.port}`}<br/>${n.role}`)}]`;
  const link = (n: NodeSpec, bridge: string) => `  ${mid(bridge)} ---|${mlabel(`${peerName(n.veth)} ⇄ ${n.veth}`)}| ${mid(n.name)}`;
  const [client, internet] = [t.outside.nodes[0], t.outside.nodes[t.outside.nodes.length - 1]];
  const lines = [
    'flowchart TB',
    `  subgraph outside[${mlabel(`outside ${t.outside.subnet}`)}]`,
    ...t.outside.nodes.map(node),
    '  end',
    `  subgraph host[${mlabel('host root namespace')}]`,
    `    ${mid(t.outside.bridge.name)}[[${mlabel(`${t.outside.bridge.name} ${t.outside.bridge.ip}`)}]]`,
    `    nat{{${mlabel('iptables nat')}}}`,
    `    ${mid(t.app.bridge.name)}[[${mlabel(`${t.app.bridge.name} ${t.app.bridge.ip}`)}]]`,
    '  end',
    `  subgraph app[${mlabel(`app ${t.app.subnet}`)}]`,
    ...t.app.nodes.map(node),
    '  end',
    ...t.outside.nodes.map((n) => link(n, t.outside.bridge.name)),
    ...t.app.nodes.map((n) => link(n, t.app.bridge.name)),
    ...(client ? t.portForwards.map((pf) => `  ${mid(client.name)} -. ${mlabel(`tcp ${t.outside.bridge.ip}:${pf.hostPort}`)} .-> nat -. ${mlabel(dnatText(t, pf))} .-> ${mid(pf.node)}`) : []),
    ...(internet ? [`  ${mid(t.app.bridge.name)} -. ${mlabel(masqueradeText(t))} .-> nat -. ${mlabel('egress')} .-> ${mid(internet.name)}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
