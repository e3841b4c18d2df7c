import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { readArtifacts } from '../../src/report/artifacts.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { offPathPairs, requestPath, trafficCapture } from '../../src/report/traffic.ts';
import { pairOf, syntheticTraffic } from './synthetic.ts';

const names = [...topology.app.nodes.map((n) => n.name), 'ext-client'];

describe('the request path of a burst through host port 8080', () => {
  it('native: the client to nginx-lb:80, then each flow to its namespace and service port', () => {
    const path = requestPath(topology, 'native', () => 'host');
    expect(path.map((p) => `${p.from} -> ${p.to} ${p.proto}/${p.port}`)).toEqual([
      'ext-client -> nginx-lb tcp/80',
      'nginx-lb -> api-gateway tcp/3000',
      'api-gateway -> product-service tcp/5000',
      'api-gateway -> order-service tcp/5000',
      'product-service -> redis-cache tcp/6379',
      'order-service -> postgres-db tcp/5432',
    ]);
  });

  it('containers: the data layer is reached on its published port at the bridge address, named by the endpoint owning it', () => {
    const path = requestPath(topology, 'containers', (from, ip, port) => (ip === topology.app.bridge.ip ? `container:${from}-${port}` : undefined));
    expect(path.slice(4).map((p) => `${p.from} -> ${p.to} ${p.proto}/${p.port}`)).toEqual([
      'product-service -> container:product-service-6379 tcp/6379',
      'order-service -> container:order-service-5432 tcp/5432',
    ]);
  });

  it('refuses a topology without flows: its request path is unknown', () => {
    expect(() => requestPath({ ...topology, flows: undefined }, 'native', () => undefined)).toThrow(/declares no flows/);
  });

  it('off the path: every other ordered pair among the six namespaces and the client', () => {
    const off = offPathPairs(
      names,
      requestPath(topology, 'native', () => undefined),
    );
    expect(off).toHaveLength(7 * 6 - 6);
    expect(off).toContainEqual({ from: 'nginx-lb', to: 'product-service' });
    expect(off).toContainEqual({ from: 'api-gateway', to: 'nginx-lb' });
    expect(off).toContainEqual({ from: 'ext-client', to: 'api-gateway' });
    expect(off).not.toContainEqual({ from: 'nginx-lb', to: 'api-gateway' });
  });
});

describe('trafficCapture', () => {
  const path = requestPath(topology, 'native', () => undefined);
  const burst = syntheticTraffic().burst;

  it("takes each path pair's counts from its own protocol and port only, and sums every protocol of an off-path pair", () => {
    const c = trafficCapture({
      data: 'native',
      burst,
      path,
      names,
      delta: [
        pairOf('nginx-lb', 'api-gateway', 3000, 2, 500, 40_000),
        // Another port between the same two: not the path pair's traffic.
        pairOf('nginx-lb', 'api-gateway', 9999, 1, 7, 700),
        pairOf('order-service', 'redis-cache', 6379, 1, 3, 100),
        { ...pairOf('order-service', 'redis-cache', 0, 0, 2, 168), proto: 'icmp', port: undefined },
      ],
      steps: [],
    });
    const row = (from: string, to: string) => c.rows.find((r) => r.from === from && r.to === to)!;
    expect(row('nginx-lb', 'api-gateway')).toMatchObject({ onPath: true, proto: 'tcp', port: 3000, opened: 2, packetsOut: 500, bytesOut: 40_000, packetsIn: 500, bytesIn: 120_000 });
    expect(row('ext-client', 'nginx-lb')).toMatchObject({ onPath: true, opened: 0, packetsOut: 0 });
    expect(row('order-service', 'redis-cache')).toMatchObject({ onPath: false, opened: 1, packetsOut: 5, bytesOut: 268 });
    expect(c.rows.slice(0, path.length).every((r) => r.onPath)).toBe(true);
    expect(c.rows).toHaveLength(path.length + 36);
    expect(c.summary).toMatch(/: 1\/6 path pairs carried traffic, 1\/36 off-path pairs did$/);
  });

  it('gives each path pair its bytes per second over each step, both ways, at seconds from the burst start', () => {
    const start = Date.parse(burst.startedAt);
    const c = trafficCapture({
      data: 'native',
      burst,
      path,
      names,
      delta: [],
      steps: [
        { at: new Date(start - 1000).toISOString(), seconds: 1, delta: [] },
        { at: new Date(start + 500).toISOString(), seconds: 1.5, delta: [pairOf('ext-client', 'nginx-lb', 80, 10, 40, 3000)] },
      ],
    });
    expect(c.series.t).toEqual([-1, 0.5]);
    expect(c.series.lines.map((l) => l.pair)).toEqual(path.map((p) => `${p.from} → ${p.to} :${p.port}`));
    // 3000 bytes out and 9000 in over 1.5 s.
    expect(c.series.lines[0]!.bytesPerSecond).toEqual([0, 8000]);
    expect(c.series.lines[1]!.bytesPerSecond).toEqual([0, 0]);
  });
});

describe('reports/.evidence/traffic.json', () => {
  it('reaches the report when it has rows and a series, and is left out when it is not a capture', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecomnet-traffic-'));
    try {
      const paths = reportPaths(root);
      mkdirSync(paths.evidence, { recursive: true });
      const capture = syntheticTraffic();
      writeFileSync(paths.traffic, JSON.stringify(capture));
      expect(readArtifacts(paths).traffic).toEqual(capture);
      writeFileSync(paths.traffic, JSON.stringify({ burst: capture.burst }));
      expect(readArtifacts(paths).traffic).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
