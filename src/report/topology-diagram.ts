/**
 * The network drawn from the topology (never from literals): as SVG for the HTML report and
 * as Mermaid for `ecomnet diagram`. Both are pure so tests can check every node and address.
 * Its drawing pieces are src/util/svg-kit.ts, shared with the live diagram (src/grader/live-diagram.ts).
 */
import { nodeNamed } from '../topology/default.ts';
import type { NodeSpec, PortForward, Topology } from '../topology/types.ts';
import { esc } from '../util/text.ts';
import { bar, type BoxText, centres, DNAT, DNAT_BOX, MASQ, MASQ_BOX, masqPath, mid, mlabel, natBox, nodeBox, path, PATH_OFFSET, svgOpen, veth, type VethEnds, W, Y } from '../util/svg-kit.ts';
import { peerName } from '../topology/validate.ts';

export function dnatText(t: Topology, pf: PortForward): string {
  return `tcp dport ${pf.hostPort} → DNAT ${nodeNamed(pf.node, t).ip}:${pf.port}`;
}

export function masqueradeText(t: Topology): string {
  return `-s ${t.app.subnet} ! -o ${t.app.bridge.name} → MASQUERADE`;
}

const declaredBox = (n: NodeSpec): BoxText => ({ name: n.name, address: n.ip + (n.port === undefined ? '' : `:${n.port}`), note: n.role });

const declaredVeth = (n: NodeSpec): VethEnds => ({ inside: n.veth, onBridge: peerName(n.veth) });

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
