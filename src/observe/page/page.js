/**
 * The live page of `ecomnet observe`: seeded from /history.json, then one Server-Sent Event per
 * sample. Everything it shows comes from the snapshot (src/observe/types.ts); names and
 * addresses are never written here. Charts are uPlot's, loaded by index.html before this module.
 */

/** @typedef {import('../types.ts').Snapshot} Snapshot */
/** @typedef {import('../types.ts').Pair} Pair */
/** @typedef {import('../types.ts').Health} Health */
/** @typedef {import('../types.ts').Endpoint} Endpoint */
/** @typedef {import('uplot')} UPlot */
/** @typedef {import('uplot').Options} UPlotOptions */

import { arcsOf, edgesOf, healthState, otherHosts, undrawnCount } from './arcs.js';
import { humanBytes } from './units.js';

/** @type {typeof import('uplot')} */
const UPlotClass = /** @type {any} */ (window).uPlot;

/** The samples shown in the charts: five minutes at 1 Hz. */
const KEEP = 300;
/** Pairs drawn in the traffic chart besides the total. */
const CHART_PAIRS = 5;
/** Rows of the top talkers table. */
const TALKERS = 10;
/** Rows of the interfaces table (more when more carry traffic, drops or errors). */
const INTERFACES = 10;

/** @type {Snapshot[]} */
const samples = [];

// ---- helpers --------------------------------------------------------------------------------

/**
 * An element with attributes and children (text is always text: nothing from a sample becomes markup).
 * @param {string} tag
 * @param {Record<string, string | number | undefined>} [attrs]
 * @param {(Node | string)[]} children
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/**
 * @param {string} tag
 * @param {Record<string, string | number | undefined>} [attrs]
 * @param {(Node | string)[]} children
 * @returns {SVGElement}
 */
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

/** @param {number} n */
const perSecond = (n) => (n >= 10 ? Math.round(n).toString() : n.toFixed(1).replace(/\.0$/, ''));

/** @param {number} n */
const count = (n) => n.toLocaleString('en-US');

/** @param {string} iso */
const clock = (iso) => new Date(iso).toLocaleTimeString('en-GB', { hour12: false });

/** @param {string} iso */
function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/**
 * Replace a table body's rows; an empty list shows one muted line saying so.
 * @param {string} selector
 * @param {HTMLElement[]} rows
 * @param {string} empty
 */
function fillBody(selector, rows, empty) {
  const body = /** @type {HTMLElement} */ (document.querySelector(`${selector} tbody`));
  const columns = document.querySelectorAll(`${selector} thead th`).length;
  body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: columns, class: 'empty' }, empty))]));
}

/**
 * A cell; numbers right-aligned.
 * @param {string | number} v
 * @param {string} [cls]
 */
const td = (v, cls) => el('td', { class: cls }, String(v));

// ---- edges: the pairs of a sample, one per (from, to) -----------------------------------------

/** @typedef {import('./arcs.js').Edge} Edge */
/** @typedef {import('./arcs.js').Arc} Arc */

/** @param {Edge | Pair} e */
const isActive = (e) => e.rate.bytes > 0 || e.rate.packets > 0;

// ---- topology ---------------------------------------------------------------------------------

const W = 820;
const NODE_W = 112;
const NODE_H = 34;
const ROW = { outside: 36, uplink: 78, host: 136, app: 282, appNodes: 322 };
/** The box of the other host of a two-host build, right of this host's drawing, one per VXLAN. */
const BOX = { gap: 70, w: 260, top: ROW.host - 40 };

/**
 * The bridge an endpoint hangs on, from the discovered links: whichever of a link's ends is no
 * endpoint (the bridge itself), else the link's `via`.
 * @param {Snapshot} s
 * @returns {Map<string, string>}
 */
function bridgeOf(s) {
  const ids = new Set(s.endpoints.map((e) => e.id));
  /** @type {Map<string, string>} */
  const out = new Map();
  for (const l of s.links) {
    const bridge = !ids.has(l.to) ? l.to : !ids.has(l.from) ? l.from : l.via;
    const member = ids.has(l.from) ? l.from : l.to;
    if (member !== 'host' && !out.has(member)) out.set(member, bridge);
  }
  return out;
}

/**
 * An endpoint's address worth showing: its first that is not loopback.
 * @param {Endpoint | undefined} e
 */
const addressOf = (e) => e?.ips.find((ip) => !ip.startsWith('127.')) ?? '';

/**
 * IPv4 addresses in numeric order, so a row reads as the subnet is laid out (the seed's
 * nginx-lb .10, api-gateway .20, ... left to right); those without one last, by name.
 * @param {Map<string, Endpoint>} endpoints
 * @returns {(a: string, b: string) => number}
 */
function byAddress(endpoints) {
  const key = (/** @type {string} */ id) => {
    const parts = addressOf(endpoints.get(id)).split('.').map(Number);
    return parts.length === 4 ? parts.reduce((n, p) => n * 256 + p, 0) : Number.MAX_SAFE_INTEGER;
  };
  return (a, b) => key(a) - key(b) || a.localeCompare(b);
}

/**
 * Where each endpoint is drawn: the busiest bridge's namespaces in a row at the bottom (the app
 * bridge), the other bridges' on top (the outside world), the host between, anything else
 * (containers, external addresses) beside the host.
 * @param {Snapshot} s
 * @param {Edge[]} edges
 */
function layout(s, edges) {
  const bridges = bridgeOf(s);
  /** @type {Map<string, string[]>} */
  const byBridge = new Map();
  for (const e of s.endpoints) {
    const b = bridges.get(e.id);
    if (b && e.kind === 'namespace') byBridge.set(b, [...(byBridge.get(b) ?? []), e.id]);
  }
  const ranked = [...byBridge.entries()].sort((a, b) => b[1].length - a[1].length);
  const [app, ...outside] = ranked;
  const placed = new Set([...(app?.[1] ?? []), ...outside.flatMap(([, m]) => m)]);
  // Namespaces no link places (a build without bridge data) join the app row.
  const order = byAddress(new Map(s.endpoints.map((e) => [e.id, e])));
  const appRow = [...(app?.[1] ?? []), ...s.endpoints.filter((e) => e.kind === 'namespace' && !placed.has(e.id)).map((e) => e.id)].sort(order);
  const topRow = outside.flatMap(([, m]) => m).sort(order);
  const boxes = otherHosts(s);
  const known = new Set([...appRow, ...topRow, 'host', ...boxes.flatMap((b) => b.remote)]);
  const side = [...new Set([...s.endpoints.map((e) => e.id), ...edges.flatMap((e) => [e.from, e.to])])].filter((id) => !known.has(id));

  /** @type {Map<string, { x: number; y: number }>} */
  const at = new Map();
  /**
   * @param {string[]} ids
   * @param {number} y
   */
  const spread = (ids, y) => {
    for (const [i, id] of ids.entries()) at.set(id, { x: ((i + 0.5) * W) / ids.length, y });
  };
  spread(appRow, ROW.appNodes);
  spread(topRow, ROW.outside);
  at.set('host', { x: W / 2, y: ROW.host });
  // The other hosts' namespaces in their boxes, two abreast from the app row up, so the arcs into them bend below the row like the others.
  for (const [b, box] of boxes.entries()) {
    const x0 = W + BOX.gap + b * (BOX.w + BOX.gap);
    for (const [i, id] of box.remote.entries()) at.set(id, { x: x0 + (((i % 2) + 0.5) * BOX.w) / 2, y: ROW.appNodes - Math.floor(i / 2) * (NODE_H + 14) });
  }
  for (const [i, id] of side.entries()) at.set(id, { x: W / 2 + (i % 2 ? -1 : 1) * (NODE_W + 24) * (1 + Math.floor(i / 2)), y: ROW.host });
  return { at, appRow, topRow, appBridge: app?.[0], outsideBridges: outside.map(([b]) => b), boxes };
}

/**
 * The label of an arc: its byte rate, then packets and connections per second; `idle` without
 * traffic now; a declared flow that never carried any says so, with why it is declared.
 * @param {Arc} e
 */
function edgeLabel(e) {
  if (e.state === 'declared-idle') return ['declared, idle', e.why.join('; ')];
  if (!isActive(e)) return ['idle', `${humanBytes(e.bytes)} so far`];
  return [`${humanBytes(e.rate.bytes)}/s`, `${perSecond(e.rate.packets)} pkt/s · ${perSecond(e.rate.opened)} conn/s`];
}

/**
 * Arcs between two nodes of the same row bend below it, each on the first level where it
 * overlaps no other arc, so a chain of calls reads left to right without crossing labels.
 * @param {Arc[]} sameRow
 * @param {Map<string, { x: number; y: number }>} at
 */
function arcLevels(sameRow, at) {
  /** @type {Map<Arc, number>} */
  const level = new Map();
  /** @type {[number, number][][]} */
  const taken = [];
  const span = (/** @type {Arc} */ e) => {
    const a = at.get(e.from)?.x ?? 0;
    const b = at.get(e.to)?.x ?? 0;
    return /** @type {[number, number]} */ ([Math.min(a, b), Math.max(a, b)]);
  };
  for (const e of [...sameRow].sort((a, b) => span(a)[1] - span(a)[0] - (span(b)[1] - span(b)[0]))) {
    const [lo, hi] = span(e);
    let l = 0;
    while ((taken[l] ?? []).some(([a, b]) => lo < b - 1 && a + 1 < hi)) l++;
    (taken[l] ??= []).push([lo, hi]);
    level.set(e, l);
  }
  return level;
}

/**
 * @param {Snapshot} s
 */
function drawTopology(s) {
  const edges = arcsOf(s);
  const { at, appRow, topRow, appBridge, outsideBridges, boxes } = layout(s, edges);
  const health = new Map(s.health.map((h) => [h.name, h]));
  const endpoints = new Map(s.endpoints.map((e) => [e.id, e]));

  const sameRow = edges.filter((e) => e.from !== e.to && at.get(e.from)?.y === ROW.appNodes && at.get(e.to)?.y === ROW.appNodes);
  const levels = arcLevels(sameRow, at);
  const depth = (/** @type {number} */ l) => 46 + l * 40;
  const maxLevel = Math.max(-1, ...levels.values());
  const height = ROW.appNodes + NODE_H / 2 + (maxLevel >= 0 ? depth(maxLevel) + 8 : 16);

  const width = W + boxes.length * (BOX.gap + BOX.w) + (boxes.length ? 10 : 0);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'live topology' });
  for (const [b, box] of boxes.entries()) root.append(otherHostBox(box, W + BOX.gap + b * (BOX.w + BOX.gap), W - 10, height));

  // Bridges as bars, each member tapped onto it.
  if (appBridge) {
    root.append(svg('line', { class: 'bridge', x1: 10, x2: W - 10, y1: ROW.app, y2: ROW.app }), svg('text', { class: 'bridge-name', x: 12, y: ROW.app - 5 }, appBridge));
    for (const id of appRow) root.append(svg('line', { class: 'tap', x1: at.get(id)?.x, x2: at.get(id)?.x, y1: ROW.app, y2: ROW.appNodes - NODE_H / 2 }));
  }
  if (outsideBridges.length) {
    root.append(svg('line', { class: 'bridge', x1: 10, x2: W - 10, y1: ROW.uplink, y2: ROW.uplink }), svg('text', { class: 'bridge-name', x: 12, y: ROW.uplink - 5 }, outsideBridges.join(', ')));
    for (const id of topRow) root.append(svg('line', { class: 'tap', x1: at.get(id)?.x, x2: at.get(id)?.x, y1: ROW.outside + NODE_H / 2, y2: ROW.uplink }));
  }
  // The host routes between the bridges.
  if (appBridge) root.append(svg('line', { class: 'tap', x1: W / 2, x2: W / 2, y1: ROW.host + NODE_H / 2, y2: ROW.app }));
  if (outsideBridges.length) root.append(svg('line', { class: 'tap', x1: W / 2, x2: W / 2, y1: ROW.uplink, y2: ROW.host - NODE_H / 2 }));

  const edgeLayer = svg('g', { class: 'edges' });
  // The busiest drawn last, on top.
  for (const e of [...edges].sort((a, b) => a.rate.bytes - b.rate.bytes)) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    let d;
    let lx;
    let ly;
    const level = levels.get(e);
    if (e.from === e.to) {
      // A namespace talking to itself (its own loopback): a small loop under its node.
      const y0 = a.y + NODE_H / 2;
      d = `M ${a.x - 12} ${y0} C ${a.x - 34} ${y0 + 44}, ${a.x + 34} ${y0 + 44}, ${a.x + 12} ${y0}`;
      lx = a.x;
      ly = y0 + 44;
    } else if (level !== undefined) {
      const y0 = ROW.appNodes + NODE_H / 2;
      const dy = depth(level);
      d = `M ${a.x} ${y0} C ${a.x} ${y0 + dy * 1.3}, ${b.x} ${y0 + dy * 1.3}, ${b.x} ${y0}`;
      lx = (a.x + b.x) / 2;
      ly = y0 + dy - 10;
    } else {
      d = `M ${a.x} ${a.y} L ${b.x} ${b.y}`;
      // Edges fanning out from one node (the host's probes) put their labels at two heights in
      // turn, so neighbours never overlap.
      const t = (appRow.indexOf(e.to) + appRow.indexOf(e.from)) % 2 ? 0.42 : 0.7;
      lx = a.x + (b.x - a.x) * t;
      ly = a.y + (b.y - a.y) * t;
    }
    const width = isActive(e) ? Math.min(7, 1.5 + 1.2 * Math.log10(1 + e.rate.bytes / 1024)) : 1.2;
    const [rate, detail] = edgeLabel(e);
    const path = svg('path', { d, 'stroke-width': width.toFixed(1) });
    const policy = e.state === 'undeclared' ? `not declared by the topology: ${e.undeclared.join(', ')}` : e.why.length ? `declared: ${e.why.join('; ')}` : 'let through by the policy';
    const title = svg('title', {}, `${e.from} → ${e.to} (${e.protos.join(', ')}): ${humanBytes(e.bytes)} in total; ${policy}`);
    edgeLayer.append(
      svg(
        'g',
        { class: 'edge', 'data-edge': `${e.from}>${e.to}`, 'data-arc': e.state, 'data-bytes': e.bytes, 'data-bytes-rate': e.rate.bytes, 'data-active': String(isActive(e)) },
        title,
        path,
        svg('text', { class: 'rate', x: lx, y: ly }, rate),
        svg('text', { x: lx, y: ly + 11 }, detail),
        // Traffic the policy did not declare is news: said in words, not by colour alone.
        ...(e.state === 'undeclared' ? [svg('text', { class: 'news', x: lx, y: ly + 22 }, 'not declared')] : []),
      ),
    );
  }

  // The host has many addresses (its uplink, Docker's, ...): it shows those on the namespaces' subnets, where they meet it.
  const nsIps = s.endpoints.filter((e) => e.kind === 'namespace').map(addressOf);
  const near = (/** @type {string} */ ip) => nsIps.some((n) => n.split('.').slice(0, 2).join('.') === ip.split('.').slice(0, 2).join('.'));
  const hostIps = (endpoints.get('host')?.ips ?? []).filter((ip) => !ip.startsWith('127.') && near(ip));
  const nodeLayer = svg('g', { class: 'nodes' });
  for (const [id, p] of at) {
    const ep = endpoints.get(id);
    const h = health.get(id);
    // One on the other host that does not answer from here is not claimed down: its health is unknown here.
    const unknown = h && !h.healthy && h.across;
    const bad = !unknown && ((h && !h.healthy) || (ep && !ep.up));
    const label = id === 'host' && hostIps.length ? hostIps.join(' · ') : addressOf(ep);
    const w = Math.max(NODE_W, Math.max(label.length, id.length) * 6.2 + 16);
    const why = [
      h ? `${h.protocol} ${h.address}: ${healthState(h)} (${h.detail})` : '',
      ep?.across ? `on the other host, across ${ep.across}: not probed there` : '',
      ep && !ep.up ? 'link down or gone' : '',
    ]
      .filter(Boolean)
      .join('; ');
    nodeLayer.append(
      svg(
        'g',
        { class: 'node', 'data-node': id, 'data-state': bad ? 'bad' : unknown ? 'unknown' : 'ok', transform: `translate(${p.x - w / 2} ${p.y - NODE_H / 2})` },
        svg('title', {}, why || id),
        svg('rect', { width: w, height: NODE_H, rx: 5 }),
        svg('text', { class: 'name', x: w / 2, y: 14 }, id),
        svg('text', { class: 'ip', x: w / 2, y: 27 }, label),
      ),
    );
  }
  root.append(edgeLayer, nodeLayer);
  /** @type {HTMLElement} */ (document.getElementById('diagram')).replaceChildren(root);
  const undrawn = undrawnCount(s, edges);
  /** @type {HTMLElement} */ (document.getElementById('undrawn')).textContent = undrawn ? ` · ${undrawn} pairs with connections open and nothing counted, not drawn` : '';
}

/**
 * The other host's box at `x0` with its end of the overlay, and the overlay edge from this host's
 * bridge (its right end at `fromX`) to it: the VXLAN's name, VNI and port, its live rates.
 * @param {ReturnType<typeof otherHosts>[number]} box
 * @param {number} x0
 * @param {number} fromX
 * @param {number} height
 */
function otherHostBox(box, x0, fromX, height) {
  const o = box.overlay;
  const bytes = o.rate.rxBytes + o.rate.txBytes;
  const packets = o.rate.rxPackets + o.rate.txPackets;
  const active = bytes > 0 || packets > 0;
  const underlay = o.underlay ? `underlay ${o.underlay.name}: ${humanBytes(o.underlay.rate.rxBytes + o.underlay.rate.txBytes)}/s` : `underlay ${o.dev ?? '?'}`;
  const mid = (fromX + x0) / 2;
  return svg(
    'g',
    { class: 'other-host', 'data-other-host': o.remote ?? '', 'data-overlay': o.name },
    svg('rect', { class: 'host-box', x: x0, y: BOX.top, width: BOX.w, height: height - BOX.top - 4, rx: 8 }),
    svg('text', { class: 'host-box-title', x: x0 + 10, y: BOX.top + 16 }, box.title),
    svg('text', { class: 'host-box-note', x: x0 + 10, y: BOX.top + 30 }, box.remote.length ? 'seen across the overlay; health not probed there' : 'no traffic across the overlay yet'),
    svg('line', { class: 'bridge', x1: x0 + 6, x2: x0 + BOX.w - 6, y1: ROW.app, y2: ROW.app }),
    svg(
      'g',
      { class: 'edge overlay-edge', 'data-edge': `overlay>${o.name}`, 'data-bytes-rate': bytes, 'data-packets-rate': packets, 'data-active': String(active) },
      svg('title', {}, `${box.label} on ${o.bridge}, to ${o.remote ?? '?'} via ${o.dev ?? '?'}: rx ${humanBytes(o.rate.rxBytes)}/s, tx ${humanBytes(o.rate.txBytes)}/s; ${underlay}`),
      svg('path', { d: `M ${fromX} ${ROW.app} L ${x0 + 6} ${ROW.app}`, 'stroke-width': active ? Math.min(7, 1.5 + 1.2 * Math.log10(1 + bytes / 1024)).toFixed(1) : '1.2', 'stroke-dasharray': '6 3' }),
      svg('text', { class: 'rate', x: mid, y: ROW.app - 30 }, box.label),
      svg('text', { class: 'rate', x: mid, y: ROW.app - 18 }, active ? `${humanBytes(bytes)}/s` : 'idle'),
      svg('text', { x: mid, y: ROW.app - 6 }, `${perSecond(packets)} pkt/s`),
      svg('text', { x: mid, y: ROW.app + 14 }, underlay),
    ),
  );
}

// ---- health -----------------------------------------------------------------------------------

/** @type {Map<string, { row: HTMLElement; spark: UPlot }>} */
const healthRows = new Map();

/**
 * @param {HTMLElement} into
 * @returns {UPlot}
 */
function sparkline(into) {
  /** @type {UPlotOptions} */
  const opts = {
    width: 100,
    height: 24,
    cursor: { show: false },
    legend: { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
    series: [{}, { stroke: '#2563eb', width: 1, spanGaps: false, points: { show: false } }],
  };
  return new UPlotClass(opts, [[], []], into);
}

/** @param {Snapshot} s */
function drawHealth(s) {
  const body = /** @type {HTMLElement} */ (document.querySelector('#health tbody'));
  for (const h of s.health) {
    let entry = healthRows.get(h.name);
    if (!entry) {
      const spark = el('td', { class: 'spark' });
      const row = el('tr', { 'data-health': h.name }, td(h.name), td(`${h.protocol} ${h.address}`, 'address'), td('', 'state'), td('', 'num latency'), spark, td('', 'since'));
      body.append(row);
      entry = { row, spark: sparkline(spark) };
      healthRows.set(h.name, entry);
    }
    const { row, spark } = entry;
    // One on the other host that does not answer from here is not claimed down.
    row.dataset.state = h.healthy ? 'healthy' : h.across ? 'unknown' : 'unhealthy';
    row.title = h.detail;
    const cells = row.children;
    cells[2].textContent = healthState(h);
    // Down, the latency cell says why: what the probe got instead of an answer.
    cells[3].textContent = !h.healthy ? h.detail : h.latencyMs === undefined ? '–' : `${h.latencyMs.toFixed(h.latencyMs < 10 ? 1 : 0)} ms`;
    cells[5].textContent = ago(h.since);
    /** @type {number[]} */
    const xs = [];
    /** @type {(number | null)[]} */
    const ys = [];
    for (const past of samples) {
      const ph = past.health.find((x) => x.name === h.name);
      xs.push(Date.parse(past.at) / 1000);
      ys.push(ph?.healthy && ph.latencyMs !== undefined ? ph.latencyMs : null);
    }
    spark.setData([xs, ys]);
  }
}

// ---- traffic chart ----------------------------------------------------------------------------

/** @type {{ plot: UPlot; keys: string[] } | undefined} */
let trafficChart;
const PALETTE = ['#2563eb', '#0d9488', '#9333ea', '#d97706', '#64748b'];

/** The pairs with the most bytes over the samples kept: the chart's lines besides the total. */
function chartKeys() {
  /** @type {Map<string, number>} */
  const total = new Map();
  for (const s of samples) for (const e of edgesOf(s.pairs)) total.set(`${e.from}>${e.to}`, (total.get(`${e.from}>${e.to}`) ?? 0) + e.rate.bytes);
  return [...total.entries()]
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, CHART_PAIRS)
    .map(([k]) => k);
}

function drawTraffic() {
  const keys = chartKeys();
  const into = /** @type {HTMLElement} */ (document.getElementById('traffic-chart'));
  if (!trafficChart || trafficChart.keys.join() !== keys.join()) {
    trafficChart?.plot.destroy();
    /** @type {UPlotOptions} */
    const opts = {
      width: Math.max(300, into.clientWidth),
      height: 210,
      cursor: { drag: { x: false, y: false } },
      // The legend names the lines; the values are on the axis.
      legend: { live: false },
      scales: { x: { time: true } },
      axes: [{}, { size: 70, values: (_u, ticks) => ticks.map((t) => `${humanBytes(t)}/s`) }],
      series: [{}, { label: 'total', stroke: '#1f2933', width: 1.5 }, ...keys.map((k, i) => ({ label: k.replace('>', ' → '), stroke: PALETTE[i % PALETTE.length], width: 1.2 }))],
    };
    trafficChart = { plot: new UPlotClass(opts, [[]], into), keys };
  }
  const xs = samples.map((s) => Date.parse(s.at) / 1000);
  const totals = samples.map((s) => s.pairs.reduce((n, p) => n + p.rate.bytes, 0));
  const lines = keys.map((k) => samples.map((s) => edgesOf(s.pairs).find((e) => `${e.from}>${e.to}` === k)?.rate.bytes ?? 0));
  trafficChart.plot.setData([xs, totals, ...lines]);
}

// ---- tables -----------------------------------------------------------------------------------

/** @param {Snapshot} s */
function drawTables(s) {
  fillBody(
    '#protocols',
    s.protocols.map((p) =>
      el('tr', { 'data-proto': p.proto }, td(p.proto.toUpperCase()), td(count(p.live), 'num'), td(count(p.opened), 'num'), td(humanBytes(p.bytes), 'num'), td(`${humanBytes(p.rate.bytes)}/s`, 'num')),
    ),
    'no connections yet',
  );
  fillBody(
    '#states',
    Object.entries(s.states)
      .sort((a, b) => b[1] - a[1])
      .map(([state, n]) => el('tr', { 'data-conn-state': state }, td(state), td(count(n), 'num'))),
    'no live connections',
  );
  const talkers = [...s.pairs].sort((a, b) => b.rate.bytes - a.rate.bytes || b.bytesOut + b.bytesIn - (a.bytesOut + a.bytesIn)).slice(0, TALKERS);
  fillBody(
    '#talkers',
    talkers.map((p) =>
      el(
        'tr',
        { 'data-talker': `${p.from}>${p.to}` },
        td(p.from),
        td(p.to),
        td(p.port === undefined ? p.proto : `${p.proto}/${p.port}`),
        td(perSecond(p.rate.opened), 'num'),
        td(perSecond(p.rate.packets), 'num'),
        td(`${humanBytes(p.rate.bytes)}/s`, 'num'),
        td(humanBytes(p.bytesOut + p.bytesIn), 'num'),
        td(count(p.live), 'num'),
        td(count(p.opened), 'num'),
      ),
    ),
    'no traffic yet',
  );
  // The busiest first, then any with errors or drops; quiet ones beyond the table's rows are counted, not listed.
  const loud = (/** @type {import('../types.ts').InterfaceCounters} */ i) => i.rate.rxBytes + i.rate.txBytes > 0 || i.rxErrors + i.txErrors + i.rxDropped + i.txDropped > 0;
  const ifaces = [...s.interfaces].sort((a, b) => b.rate.rxBytes + b.rate.txBytes - (a.rate.rxBytes + a.rate.txBytes) || Number(loud(b)) - Number(loud(a)) || a.namespace.localeCompare(b.namespace));
  const listed = ifaces.filter((i, n) => n < INTERFACES || loud(i));
  const rows = listed.map((i) => {
    const errors = i.rxErrors + i.txErrors;
    return el(
      'tr',
      { 'data-iface': `${i.namespace}/${i.name}` },
      td(i.namespace),
      td(i.name),
      td(`${humanBytes(i.rate.rxBytes)}/s`, 'num'),
      td(`${humanBytes(i.rate.txBytes)}/s`, 'num'),
      td(`${count(i.rxDropped)} / ${count(i.txDropped)}`, 'num'),
      td(`${count(i.rxErrors)} / ${count(i.txErrors)}`, errors ? 'num err' : 'num'),
    );
  });
  if (ifaces.length > listed.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'empty' }, `${ifaces.length - listed.length} more, quiet: no traffic, drops or errors`)));
  fillBody('#interfaces', rows, 'no interfaces read');
  const notes = /** @type {HTMLElement} */ (document.getElementById('notes'));
  notes.replaceChildren(...(s.notes.length ? s.notes.map((n) => el('li', {}, n)) : [el('li', {}, 'none: every source was read')]));
}

// ---- the sample stream ------------------------------------------------------------------------

/** @param {Snapshot} s */
function show(s) {
  const last = samples.at(-1);
  if (last && s.seq <= last.seq && s.seq !== 1) return;
  // A restarted observer counts from 1 again: its history starts over.
  if (last && s.seq <= last.seq) samples.length = 0;
  samples.push(s);
  if (samples.length > KEEP) samples.splice(0, samples.length - KEEP);
  shownAt = Date.now();
  if (document.getElementById('link')?.dataset.state === 'stale') linkState('live');
  render();
}

/** When the page last got a sample: a stream that stays open but brings none (a stalled observer) is trouble too. */
let shownAt = 0;

/** Flag a stream silent for three intervals. */
function watchStaleness() {
  const s = samples.at(-1);
  const silent = Date.now() - shownAt;
  if (!s || silent < 3 * s.intervalMs || document.getElementById('link')?.dataset.state === 'lost') return;
  linkState('stale', `no sample for ${Math.round(silent / 1000)} s`);
}

function render() {
  const s = samples.at(-1);
  if (!s) return;
  const updated = /** @type {HTMLElement} */ (document.getElementById('updated'));
  updated.dataset.seq = String(s.seq);
  updated.dataset.at = s.at;
  updated.textContent = `sample ${s.seq} at ${clock(s.at)} · every ${(s.intervalMs / 1000).toFixed(1)} s`;
  /** @type {HTMLElement} */ (document.getElementById('cost')).textContent = `observer: ${s.observer.cpuPercent.toFixed(1)}% of a core, ${Math.round(s.observer.sampleMs)} ms a sample`;
  drawTopology(s);
  drawHealth(s);
  drawTraffic();
  drawTables(s);
}

/**
 * @param {'live' | 'connecting' | 'lost' | 'stale'} state
 * @param {string} [text]
 */
function linkState(state, text) {
  const link = /** @type {HTMLElement} */ (document.getElementById('link'));
  link.dataset.state = state;
  link.textContent = text ?? { live: 'live', connecting: 'connecting', lost: 'connection lost: retrying', stale: 'no new sample' }[state];
}

/** The token of the URL `ecomnet observe` printed: the server answers the page's data only with it. */
const TOKEN = new URLSearchParams(location.search).get('token') ?? '';
/** @param {string} path */
const withToken = (path) => `${path}?token=${encodeURIComponent(TOKEN)}`;

async function start() {
  try {
    const r = await fetch(withToken('/history.json'));
    if (r.ok) for (const s of /** @type {Snapshot[]} */ (await r.json())) show(s);
  } catch {
    // The stream below still brings the latest sample.
  }
  const events = new EventSource(withToken('/events'));
  events.onopen = () => linkState('live');
  events.onerror = () => linkState('lost');
  events.onmessage = (m) => show(JSON.parse(m.data));
  setInterval(watchStaleness, 1000);
  // The "for" column ages between samples too.
  setInterval(() => {
    for (const h of samples.at(-1)?.health ?? []) {
      const cell = healthRows.get(h.name)?.row.children[5];
      if (cell) cell.textContent = ago(h.since);
    }
  }, 5000);
  window.addEventListener('resize', () => trafficChart?.plot.setSize({ width: Math.max(300, /** @type {HTMLElement} */ (document.getElementById('traffic-chart')).clientWidth), height: 210 }));
}

void start();
