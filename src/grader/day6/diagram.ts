/**
 * The two hosts as found, drawn from what discovery read on each (never from src/topology): each
 * host's eth0 on the underlay, its VXLAN with its VNI, port and remote, its br-app and its
 * namespaces with their addresses and MTUs, and the overlay edge between the two VXLANs. What
 * differs from day 6's contract is red, with what is wrong.
 */
import { cidrHas } from '../../topology/ipv4.ts';
import { nodeBox, RED, svgOpen, W } from '../../util/svg-kit.ts';
import { esc } from '../../util/text.ts';
import { SUBNET } from '../diagnosis/common.ts';
import { linuxDefaultPort, mtu, vxlan } from './contract.ts';
import { type Day6Fault, diagnoseDay6 } from './diagnose.ts';
import type { HostState } from './discover.ts';

const COL = W / 2;
const BOX = 150;
const y = { host: 20, eth0: 70, vx: 120, bridge: 210, ns: 270, height: 370 };

/** The first of the diagnosis's marks on a host's VXLAN, or undefined. */
const vxlanFault = (faults: Day6Fault[], h: HostState): string | undefined => faults.flatMap((f) => f.marks ?? []).find((m) => m.host === h.name)?.text;

function hostColumn(h: HostState, faults: Day6Fault[], x0: number): string {
  const cx = x0 + COL / 2;
  const v = h.vxlans[0];
  const fault = vxlanFault(faults, h);
  const bridge = h.rootAddresses.filter((a) => a.ifname === vxlan.bridge).map((a) => a.address);
  const apps = h.namespaces.filter((n) => n.links.some((l) => l.addresses.some((a) => cidrHas(SUBNET, a))));
  const step = apps.length > 1 ? (COL - 40 - BOX) / (apps.length - 1) : 0;
  const boxW = Math.min(BOX, apps.length > 1 ? step - 8 : BOX);
  const boxes = apps.map((n, i) => {
    const x = apps.length > 1 ? x0 + 20 + BOX / 2 + i * step : cx;
    const link = n.links.find((l) => l.addresses.some((a) => cidrHas(SUBNET, a)))!;
    const big = link.mtu > mtu.overlay ? `MTU ${link.mtu}, over ${mtu.overlay}` : undefined;
    return `<line x1="${x}" y1="${y.bridge + 24}" x2="${x}" y2="${y.ns}" stroke="#64748b" stroke-width="2"/>\n${nodeBox({ name: n.name, address: link.addresses.find((a) => cidrHas(SUBNET, a))!, note: `${link.ifname} · MTU ${link.mtu}`, ...(big ? { fault: big } : {}) }, x, y.ns, boxW)}`;
  });
  const vxText = v ? `${v.name} · VNI ${v.vni ?? '?'} · UDP ${v.port ?? linuxDefaultPort} · remote ${v.remote ?? '(none)'} · dev ${v.dev ?? '?'}` : `no ${vxlan.name}`;
  return `<g class="host" data-host="${esc(h.name)}">
<rect x="${x0 + 8}" y="${y.host}" width="${COL - 16}" height="${y.height - y.host - 8}" rx="10" fill="#f8fafc" stroke="#94a3b8" stroke-dasharray="6 4"/>
<text x="${x0 + 20}" y="${y.host + 20}" font-weight="700" font-size="14">${esc(h.name)}</text>
<text x="${cx}" y="${y.eth0 + 4}" text-anchor="middle" font-size="12" font-family="monospace">${esc(vxlan.underlayDev)} ${esc(h.underlay.join(', ') || '(no address)')}</text>
<g class="vxlan${fault ? ' fault' : ''}"><rect x="${x0 + 30}" y="${y.vx}" width="${COL - 60}" height="44" rx="6" fill="${fault ? '#fef2f2' : '#eef2ff'}" stroke="${fault ? RED : '#4f46e5'}" stroke-width="1.5"/>
<text x="${cx}" y="${y.vx + 18}" text-anchor="middle" font-size="11" font-family="monospace">${esc(vxText)}</text>
<text x="${cx}" y="${y.vx + 35}" text-anchor="middle" font-size="10" fill="${fault ? RED : '#475569'}">${esc(fault ? `✗ ${fault}` : `enslaved to ${v?.master}, MTU ${v?.mtu}`)}</text></g>
<line x1="${cx}" y1="${y.vx + 44}" x2="${cx}" y2="${y.bridge}" stroke="#4f46e5" stroke-width="2"/>
<rect x="${x0 + 20}" y="${y.bridge}" width="${COL - 40}" height="24" rx="4" fill="${bridge.length ? '#0f766e' : RED}"/>
<text x="${cx}" y="${y.bridge + 16}" text-anchor="middle" fill="#fff" font-size="12" font-weight="700">${esc(`${vxlan.bridge} ${bridge.join(', ') || '✗ no address'}`)}</text>
${boxes.join('\n')}
</g>`;
}

/** The SVG of both hosts, host A on the left. */
export function day6DiagramSvg(a: HostState, b: HostState): string {
  // Red where the diagnosis finds a fault, in its words: one judgement, drawn.
  const faults = diagnoseDay6(a, b);
  const overlayOk = !vxlanFault(faults, a) && !vxlanFault(faults, b);
  const mid = y.vx + 22;
  return `${svgOpen(`${a.name} and ${b.name} as found`, `course day 6: ${a.name} and ${b.name}, discovered`, y.height)}
<line x1="${COL / 2}" y1="${y.eth0 - 16}" x2="${W - COL / 2}" y2="${y.eth0 - 16}" stroke="#334155" stroke-width="3"/>
<text x="${W / 2}" y="${y.eth0 - 22}" text-anchor="middle" font-size="11" fill="#334155">underlay</text>
${hostColumn(a, faults, 0)}
${hostColumn(b, faults, COL)}
<g class="overlay${overlayOk ? '' : ' fault'}"><line x1="${COL - 30}" y1="${mid}" x2="${COL + 30}" y2="${mid}" stroke="${overlayOk ? '#4f46e5' : RED}" stroke-width="3" stroke-dasharray="8 5"/>
<text x="${W / 2}" y="${mid - 8}" text-anchor="middle" font-size="10" fill="${overlayOk ? '#4f46e5' : RED}">overlay</text></g>
</svg>`;
}
