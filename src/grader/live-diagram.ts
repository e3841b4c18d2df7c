/**
 * The network as the host holds it (a HostModel from discover()), held against the seed's
 * contract: each of the six namespaces with its address and listener, its veth to the bridge,
 * the bridge, the NAT rules and where the data layer lives. What differs from the contract is
 * drawn red with a short label; diagramFindings lists the same red items as sentences. Drawn
 * with the declared diagram's pieces (src/report/topology-diagram.ts), so both look alike.
 */
import { bar, centres, DNAT, DNAT_BOX, MASQ, MASQ_BOX, masqPath, mid, mlabel, natBox, nodeBox, PATH_OFFSET, path, RED, svgOpen, veth, W, Y, type BoxText, type VethEnds } from '../util/svg-kit.ts';
import { esc } from '../util/text.ts';
import { contains, parseCidr, parseIp } from '../topology/ipv4.ts';
import { bridge, namespaces, rules } from './contract.ts';
import { appBridge, type Bridge, type ContractNamespace, dataAt, type DataLocation, hostLink, hostPeer, namespaceOf, nsLink, servesAt } from './find.ts';
import { type Judgement, judgeRules, type SeedRule } from './judge.ts';
import type { Address, HostModel, Link } from './model.ts';
import { explain } from './netfilter.ts';

/** Something that differs from the contract: `what` is drawn beside the part, `why` says what was found instead. */
export interface Fault {
  what: string;
  why?: string;
}

interface NodeView {
  name: string;
  box: BoxText;
  /** Undefined when the namespace is missing: there is no line to draw. */
  veth?: { ends: VethEnds; faults: Fault[] };
  faults: Fault[];
}

/** Everything the pictures show, judged once. */
interface LiveView {
  ipForward: { text: string; fault?: Fault };
  bridge: { name: string; id: string; label: string; faults: Fault[] };
  uplink: string;
  nodes: NodeView[];
  rules: SeedRule[];
  data: string;
}

const SUBNET = rules.masquerade.source;
const wanted = (ip: string) => `${ip}/${bridge.prefix}`;
const shown = (as: Address[]) => as.map((a) => `${a.ip}/${a.prefix}`).join(', ') || 'no address';
/** The address, on a network that holds the bridge and all six namespaces: the seed's /16, or a learner's /24 (a deviation, not a fault). */
const hasAddress = (as: Address[], ip: string) =>
  as.some((a) => {
    const net = parseCidr(`${a.ip}/${a.prefix}`);
    return a.ip === ip && net !== undefined && [bridge.ip, ...namespaces.map((n) => n.ip)].every((x) => contains(net, parseIp(x)!));
  });
/** Administratively up and carrying (lo and some virtual links say UNKNOWN). */
const isUp = (l: { up: boolean; operstate: string }) => l.up && (l.operstate === 'UP' || l.operstate === 'UNKNOWN');
/** The namespaces that stand for the data layer, which may live elsewhere (a container, the host). */
const DATA = { 'postgres-db': 'PostgreSQL', 'redis-cache': 'Redis' } as const;
const isData = (name: string): name is keyof typeof DATA => name in DATA;
/** Where the port forward leads: the namespace whose address the DNAT names (nginx-lb). */
const dnatTarget = namespaces.findIndex((n) => rules.dnat.to === `${n.ip}:${n.port}`);

const dataOf = (model: HostModel, name: string): DataLocation | undefined => (isData(name) ? dataAt(model, name) : undefined);

function vethFaults(model: HostModel, c: ContractNamespace, link: Link | undefined, br: Bridge | undefined): Fault[] {
  if (!link) return [{ what: 'missing', why: `no interface in ${SUBNET}` }];
  const peer = hostPeer(model, c.name);
  if (!peer) return [{ what: 'no host end', why: link.peer?.namespace ? `${link.name}'s peer is in ${link.peer.namespace}` : `${link.name} is a ${link.kind} without a peer on the host` }];
  const brName = br?.name ?? bridge.name;
  const faults: Fault[] = peer.master === brName ? [] : [{ what: `not on ${brName}`, why: peer.master ? `${peer.name} is on ${peer.master}` : `${peer.name} has no master` }];
  // One end down takes the other's carrier with it: one fault for the pair, naming each end that is down.
  const down = [peer, link].filter((l) => !isUp(l));
  if (down.length) faults.push({ what: 'down', why: down.map((l) => `${l.name} ${l.up ? '' : 'not set up, '}operstate ${l.operstate}`).join('; ') });
  return faults;
}

/** The namespace's own fault as task 1.2 has it: its address. */
function nodeFaults(c: ContractNamespace, link: Link | undefined): Fault[] {
  const addresses = link?.addresses ?? [];
  return hasAddress(addresses, c.ip) ? [] : [{ what: `wants ${wanted(c.ip)}`, why: `${link?.name ?? 'no interface'} has ${shown(addresses)}` }];
}

/** Whether its service (or the data server it stands for) serves yet: Phase 2's, drawn as a note, never a fault of the diagram. */
function serviceNote(model: HostModel, c: ContractNamespace, data: DataLocation | undefined): string {
  if (data && data.where !== 'namespace') return `in ${data.where} → ${data.address}:${data.port}`;
  const listeners = namespaceOf(model, c.name)?.listeners.filter((l) => l.proto === 'tcp' && l.port === c.port) ?? [];
  const serving = listeners.find((l) => servesAt(l, c.ip));
  if (serving) return `${serving.process ?? 'listening'} :${c.port}`;
  return listeners.length ? `listens on ${listeners.map((l) => `${l.address}:${l.port}`).join(', ')} only` : `nothing on :${c.port} yet`;
}

function nodeView(model: HostModel, c: ContractNamespace, br: Bridge | undefined): NodeView {
  if (!namespaceOf(model, c.name)) return { name: c.name, box: { name: c.name, address: '—', note: '', fault: 'namespace missing' }, faults: [{ what: 'namespace missing' }] };
  const link = nsLink(model, c.name);
  const faults = nodeFaults(c, link);
  const own = link?.addresses.find((a) => a.ip === c.ip) ?? link?.addresses[0];
  const note = serviceNote(model, c, dataOf(model, c.name));
  return {
    name: c.name,
    box: { name: c.name, address: own ? `${own.ip}/${own.prefix}` : '—', note, ...(faults[0] ? { fault: faults[0].what } : {}) },
    veth: { ends: { inside: link?.name ?? '?', onBridge: hostPeer(model, c.name)?.name ?? '?' }, faults: vethFaults(model, c, link, br) },
    faults,
  };
}

function bridgeView(br: Bridge | undefined): LiveView['bridge'] {
  if (!br) return { name: bridge.name, id: mid(bridge.name), label: `no ${bridge.name}`, faults: [{ what: 'missing', why: `no bridge holds the namespaces' veths and none is named ${bridge.name}` }] };
  const faults: Fault[] = [
    ...(hasAddress(br.addresses, bridge.ip) ? [] : [{ what: `wants ${wanted(bridge.ip)}`, why: `has ${shown(br.addresses)}` }]),
    ...(isUp(br) ? [] : [{ what: 'down', why: `${br.up ? '' : 'not set up, '}operstate ${br.operstate}` }]),
  ];
  const address = br.addresses.find((a) => a.ip === bridge.ip) ?? br.addresses[0];
  return { name: br.name, id: mid(br.name), label: `${br.name} ${address ? `${address.ip}/${address.prefix}` : 'no address'} · ${SUBNET}`, faults };
}

function dataText(model: HostModel): string {
  return Object.entries(DATA)
    .map(([ns, what]) => {
      const d = dataOf(model, ns);
      return `${what} ${d ? `in ${d.where === 'namespace' ? `namespace ${ns}` : d.where}${d.by ? ` (${d.by})` : ''} at ${d.address}:${d.port}` : 'nowhere'}`;
    })
    .join(' · ');
}

function liveView(model: HostModel, judgement: Judgement): LiveView {
  const br = appBridge(model);
  const forward = model.sysctl['net.ipv4.ip_forward'];
  const dev = judgement.outside.uplink;
  const uplinkAddr = dev ? hostLink(model, dev)?.addresses[0] : undefined;
  return {
    // Task 1.3 sets it: without it nothing is routed between the bridge and the uplink.
    ipForward: { text: `net.ipv4.ip_forward=${forward ?? '?'}`, ...(forward === '1' ? {} : { fault: { what: `net.ipv4.ip_forward is ${forward ?? 'unreadable'}`, why: 'the seed sets 1' } }) },
    bridge: bridgeView(br),
    uplink: dev ? `via ${dev}${uplinkAddr ? ` ${uplinkAddr.ip}/${uplinkAddr.prefix}` : ''}` : 'no default route',
    nodes: namespaces.map((c) => nodeView(model, c, br)),
    rules: Object.values(judgement.rules),
    data: dataText(model),
  };
}

const sentence = (subject: string, f: Fault) => `${subject}: ${f.what}${f.why ? ` (${f.why})` : ''}`;
const ruleFault = (r: SeedRule): Fault => ({ what: 'not found', why: `got ${explain(r.main.decision)}` });

/** Task 1.2's network as drawn: the bridge, each namespace's address and veth. The diagram's deliverable rests on these. */
function networkFindings(v: LiveView): string[] {
  return [
    ...v.bridge.faults.map((f) => sentence(`bridge ${v.bridge.name}`, f)),
    ...v.nodes.flatMap((n) => [...n.faults.map((f) => sentence(n.name, f)), ...(n.veth?.faults ?? []).map((f) => sentence(`${n.name} veth`, f))]),
  ];
}

/** Everything drawn red: task 1.2's network, then what tasks 1.3 and 1.4 add (forwarding, the rules), whose own deliverables judge them. */
function findingsOf(v: LiveView): string[] {
  return [...(v.ipForward.fault ? [sentence('host', v.ipForward.fault)] : []), ...networkFindings(v), ...v.rules.filter((r) => !r.holds).map((r) => sentence(r.wanted, ruleFault(r)))];
}

/** What of task 1.2's network differs from the seed, one sentence each: `api-gateway veth: not on br-app (veth-api-br has no master)`. [] when it matches. */
export function diagramFindings(model: HostModel, judgement: Judgement = judgeRules(model)): string[] {
  return networkFindings(liveView(model, judgement));
}

/** A rule's line in a NAT box: what the seed wants, then how the live rules do it or what happened instead. */
function ruleLines(r: SeedRule): string[] {
  const d = r.main.decision;
  const how = d.rule ? `found in ${d.path.join(' > ')}` : `by ${d.path.join(' > ')}'s ${d.target} policy`;
  return [r.wanted, r.holds ? how : `✗ not found: ${d.target} (${d.path.join(' > ')})`];
}

export function liveDiagramSvg(model: HostModel, judgement: Judgement = judgeRules(model)): string {
  const v = liveView(model, judgement);
  const findings = findingsOf(v);
  const appW = Math.min(150, (W - 40) / v.nodes.length - 10);
  const appX = centres(v.nodes.length, appW);
  const outBottom = Y.outsideTop + Y.nodeH;
  const outX = W / 2;
  const [masq, dnat, forward] = (['masquerade', 'dnat', 'forward'] as const).map((id) => v.rules.find((r) => r.id === id)!);
  const targetX = appX[dnatTarget]! + PATH_OFFSET;
  const via = DNAT_BOX.via;
  const dnatPath: [number, number][] = [
    [outX - 120, outBottom],
    [outX - 120, Y.natTop - 20],
    [via, Y.natTop - 20],
    [via, Y.app - 20],
    [targetX, Y.app - 20],
    [targetX, Y.appTop - 2],
  ];
  const listTop = Y.appTop + Y.nodeH + 30;
  const height = listTop + (findings.length + 1) * 16 + 36;
  const legendY = height - 14;
  const headerFault = v.ipForward.fault;
  return `${svgOpen('live network diagram', `the live host against the seed: ${findings.length ? `${findings.length} differences` : 'as the seed says'}`, height)}
<rect x="8" y="${Y.hostTop}" width="${W - 16}" height="${Y.hostBottom - Y.hostTop}" rx="10" fill="#f8fafc" stroke="#94a3b8" stroke-dasharray="6 4"/>
<text x="24" y="${Y.hostTop + 16}" font-size="11" fill="${headerFault ? RED : '#475569'}">${esc(`host root namespace · ${headerFault ? `✗ ${headerFault.what}` : v.ipForward.text}`)}</text>
${v.nodes.map((n, i) => (n.veth ? veth(n.veth.ends, appX[i]!, Y.app + Y.barH, Y.appTop, false, 'left', n.veth.faults[0]?.what) : '')).join('\n')}
${dnat?.holds ? path(dnatPath, DNAT, false, 'arrow-dnat') : ''}
${masq?.holds ? masqPath(outX + 120, outBottom) : ''}
${bar(v.bridge.name, v.bridge.label, Y.app, v.bridge.faults[0]?.what)}
${natBox(DNAT_BOX.x, DNAT_BOX.w, 'port forwarding (DNAT)', [...ruleLines(dnat!), ...ruleLines(forward!)], dnat!.holds && forward!.holds ? DNAT : RED)}
${natBox(MASQ_BOX.x, MASQ_BOX.w, 'egress (MASQUERADE)', ruleLines(masq!), masq!.holds ? MASQ : RED)}
${nodeBox({ name: 'outside', address: v.uplink, note: `clients → host:${rules.dnat.dport} · egress` }, outX, Y.outsideTop, 360, 'outside')}
${v.nodes.map((n, i) => nodeBox(n.box, appX[i]!, Y.appTop, appW)).join('\n')}
<text x="24" y="${listTop}" font-size="11" fill="#475569">${esc(`data: ${v.data}`)}</text>
${findings.length ? `<g class="findings" font-size="11" fill="${RED}">${findings.map((f, i) => `<text x="24" y="${listTop + (i + 1) * 16}">${esc(`✗ ${f}`)}</text>`).join('')}</g>` : ''}
<g font-size="11"><line x1="24" y1="${legendY - 4}" x2="54" y2="${legendY - 4}" stroke="${DNAT}" stroke-width="4"/><text x="60" y="${legendY}">client → host:${rules.dnat.dport} → DNAT</text>
<line x1="250" y1="${legendY - 4}" x2="280" y2="${legendY - 4}" stroke="${MASQ}" stroke-width="4" stroke-dasharray="8 5"/><text x="286" y="${legendY}">namespace egress → MASQUERADE</text>
<rect x="520" y="${legendY - 10}" width="14" height="12" fill="${RED}"/><text x="540" y="${legendY}">differs from the seed's contract</text></g>
</svg>`;
}

export function liveDiagramMermaid(model: HostModel, judgement: Judgement = judgeRules(model)): string {
  const v = liveView(model, judgement);
  const bad: string[] = [];
  const badLinks: number[] = [];
  const links: string[] = [];
  const link = (text: string, fault: boolean) => {
    if (fault) badLinks.push(links.length);
    links.push(text);
  };
  const label = (text: string, fault?: Fault) => mlabel(fault ? `${text}<br/>✗ ${fault.what}` : text);
  const node = (n: NodeView) => {
    if (n.faults.length) bad.push(mid(n.name));
    return `    ${mid(n.name)}[${mlabel(`${n.name}<br/>${n.box.address}<br/>${n.box.fault ? `✗ ${n.box.fault}` : n.box.note}`)}]`;
  };
  const target = mid(namespaces[dnatTarget]!.name);
  for (const n of v.nodes) if (n.veth) link(`  ${v.bridge.id} ---|${label(`${n.veth.ends.onBridge} ⇄ ${n.veth.ends.inside}`, n.veth.faults[0])}| ${mid(n.name)}`, n.veth.faults.length > 0);
  for (const r of v.rules) {
    const text = label(r.wanted, r.holds ? undefined : ruleFault(r));
    // Each chained arrow is a link of its own for linkStyle.
    if (r.id === 'masquerade') {
      link(`  ${v.bridge.id} -. ${text} .-> nat`, !r.holds);
      link('  nat -.-> outside', !r.holds);
    } else if (r.id === 'dnat') {
      link(`  outside -. ${text} .-> nat`, !r.holds);
      link(`  nat -.-> ${target}`, !r.holds);
    } else link(`  nat -. ${text} .-> ${target}`, !r.holds);
  }
  if (v.bridge.faults.length) bad.push(v.bridge.id);
  const lines = [
    'flowchart TB',
    `  outside([${mlabel(`outside<br/>${v.uplink}`)}])`,
    `  subgraph host[${label(`host root namespace · ${v.ipForward.text}<br/>data: ${v.data}`, v.ipForward.fault)}]`,
    `    nat{{${mlabel('iptables')}}}`,
    `    ${v.bridge.id}[[${label(v.bridge.label, v.bridge.faults[0])}]]`,
    '  end',
    `  subgraph app[${mlabel(`app ${SUBNET}`)}]`,
    ...v.nodes.map(node),
    '  end',
    ...links,
    `  classDef fault fill:#fef2f2,stroke:${RED},color:#991b1b`,
    ...(bad.length ? [`  class ${bad.join(',')} fault`] : []),
    ...(v.ipForward.fault ? [`  style host stroke:${RED}`] : []),
    ...(badLinks.length ? [`  linkStyle ${badLinks.join(',')} stroke:${RED},stroke-width:2px`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
