/**
 * Which pairs the observer's topology draws (the page) and lists (the terminal): those that
 * carried traffic and the declared flows, never a pair that only holds connections open.
 */
import { describe, expect, it } from 'vitest';
import { nodeNamed, nodeOf, topology } from '../../src/topology/default.ts';
import { declaredOf } from '../../src/observe/declared.ts';
import { arcsOf } from '../../src/observe/page/arcs.js';
import { snapshotText } from '../../src/observe/text.ts';
import { type SampleChange, SyntheticObserver } from '../support/observe-synthetic.ts';

const app = topology.app.nodes;
const client = nodeOf('client');
const forward = topology.portForwards[0]!;
/** The request path as the observer names it: the client to the port forward's target, then each flow. */
const path = [{ from: client.name, to: forward.node, port: forward.port }, ...topology.flows!.map((f) => ({ from: f.from, to: f.to, port: f.port ?? nodeNamed(f.to).port }))];
const onPath = (from: string, to: string) => path.some((p) => p.from === from && p.to === to);
/** Traffic the topology does not declare: one data server to the other. */
const news = { from: nodeOf('redis').name, to: nodeOf('postgres').name, port: nodeOf('postgres').port, bytesPerSecond: 2048 };
/** Every other ordered pair of app namespaces off the path, each holding a connection open to the other's service and carrying nothing. */
const idleOffPath = app.flatMap((a) => app.filter((b) => b !== a && !onPath(a.name, b.name) && !(a.name === news.from && b.name === news.to)).map((b) => ({ from: a.name, to: b.name, port: b.port })));

/** A snapshot with the idle pairs, the first `busy` flows of the path carrying traffic, and the undeclared pair. */
function snapshot(busy: number, extra: SampleChange['flows'] = []) {
  const o = new SyntheticObserver();
  return o.next({ open: idleOffPath, flows: [...path.slice(0, busy).map((p) => ({ ...p, bytesPerSecond: 4096 })), news, ...extra] });
}

describe('the pairs the observer draws', () => {
  it('the declared flows are the request path: the client to the port forward, then each of the topology flows', () => {
    const d = declaredOf(topology);
    expect(d.flows.map((f) => ({ from: f.from, to: f.to, port: f.port }))).toEqual(path);
    expect(d.flows.every((f) => f.why.length > 0)).toBe(true);
  });

  it(`draws the ${path.length} declared flows and the one undeclared pair that carried traffic, none of the ${idleOffPath.length} idle undeclared pairs`, () => {
    const s = snapshot(3);
    expect(s.pairs.length).toBeGreaterThanOrEqual(idleOffPath.length + 4);
    const arcs = arcsOf(s);
    expect(arcs.map((a) => `${a.from}>${a.to}`).sort()).toEqual([...path, news].map((p) => `${p.from}>${p.to}`).sort());
    const state = (from: string, to: string) => arcs.find((a) => a.from === from && a.to === to)?.state;
    for (const [i, p] of path.entries()) expect(state(p.from, p.to), `${p.from}>${p.to}`).toBe(i < 3 ? 'declared' : 'declared-idle');
    expect(state(news.from, news.to)).toBe('undeclared');
    expect(arcs.find((a) => a.state === 'undeclared')?.undeclared).toEqual([`tcp/${news.port}`]);
  });

  it('what the policy lets through besides the flows is no news: the host on a service port, ICMP, loopback; another port of a declared pair is', () => {
    const gateway = nodeOf('gateway');
    const [first] = topology.flows!;
    const s = snapshot(0, [
      { from: 'host', to: gateway.name, port: gateway.port, bytesPerSecond: 300 },
      { from: gateway.name, to: nodeOf('order').name, proto: 'icmp', bytesPerSecond: 84 },
      { from: gateway.name, to: gateway.name, port: gateway.port, bytesPerSecond: 900 },
      { from: 'host', to: nodeOf('product').name, port: 22, bytesPerSecond: 100 },
      { from: first!.from, to: first!.to, port: 22, bytesPerSecond: 100 },
    ]);
    const state = (from: string, to: string) => arcsOf(s).find((a) => a.from === from && a.to === to)?.state;
    expect(state('host', gateway.name)).toBe('declared');
    expect(state(gateway.name, nodeOf('order').name)).toBe('declared');
    expect(state(gateway.name, gateway.name)).toBe('declared');
    expect(state('host', nodeOf('product').name)).toBe('undeclared');
    expect(state(first!.from, first!.to)).toBe('undeclared');
  });

  it('a pair that carried traffic stays drawn once quiet; a declared flow that never did is drawn declared, idle', () => {
    const o = new SyntheticObserver();
    o.next({ flows: [news], open: idleOffPath });
    const arcs = arcsOf(o.next({ open: idleOffPath }));
    expect(arcs).toHaveLength(path.length + 1);
    expect(arcs.find((a) => a.from === news.from)).toMatchObject({ state: 'undeclared', rate: { bytes: 0 } });
    expect(arcs.filter((a) => a.state === 'declared-idle')).toHaveLength(path.length);
  });

  it('the terminal lists the same: the traffic, the declared flows idle, the undeclared marked, no idle undeclared pair', () => {
    const text = snapshotText(snapshot(3));
    const rows = text.split('\n');
    const row = (from: string, to: string) => rows.filter((r) => r.startsWith(`${from} `) && r.split(/\s+/)[1] === to);
    for (const p of idleOffPath) expect(row(p.from, p.to), `${p.from}>${p.to}`).toEqual([]);
    for (const [i, p] of path.entries()) {
      expect(row(p.from, p.to), `${p.from}>${p.to}`).toHaveLength(1);
      expect(row(p.from, p.to)[0]).toMatch(i < 3 ? /declared$/ : /declared, idle$/);
    }
    expect(row(news.from, news.to)).toHaveLength(1);
    expect(row(news.from, news.to)[0]).toMatch(/UNDECLARED$/);
    expect(text).toContain(`${idleOffPath.length} pairs with connections open and nothing counted, not listed`);
  });
});
