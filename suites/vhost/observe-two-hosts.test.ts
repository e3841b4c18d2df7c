/**
 * Issue 23: `ecomnet observe` on host A of the two-host platform (course day 6) shows the overlay
 * to host B with its live rates and host B's namespaces that A's traffic reaches across it; the
 * same host with its VXLAN off the lab's bridge shows neither, as a host of one build.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostsUp, upInVirtualHosts } from '../../src/cli/virtual-hosts.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';

let up: HostsUp;

beforeAll(async () => {
  up = await upInVirtualHosts(twoHosts, 'two-hosts', { data: 'native', policy: 'deny', say: () => {} });
}, 120_000);
afterAll(async () => {
  await up?.destroy();
});

describe('ecomnet observe on host A of the two-host platform', () => {
  it("shows the VXLAN to host B with non-zero rates, and redis-cache and postgres-db across it with product-service's and order-service's traffic; none of it once the VXLAN is off the bridge", async () => {
    const a = up.hosts.find((h) => h.name === 'host-a')!.vh;
    const r = await a.exec([process.execPath, join(import.meta.dirname, 'observe-two-hosts-inside.ts')], { allowFail: true, timeoutMs: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const { twoHost, oneHost } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    console.log(`observe on host A: ${JSON.stringify(twoHost)}`);
    const { overlay, list } = twoHosts.hosts!;
    expect(twoHost.overlay).toHaveLength(1);
    const [o] = twoHost.overlay;
    expect(o).toMatchObject({ name: overlay.name, vni: overlay.vni, port: overlay.port, remote: list[1]!.underlay, dev: 'eth0', bridge: twoHosts.app.bridge.name });
    expect(o.rate.rxBytes, 'the overlay carried the replies').toBeGreaterThan(0);
    expect(o.rate.txPackets, 'the overlay carried the requests').toBeGreaterThan(0);
    expect(o.underlay.rate.txBytes, 'the underlay carried the overlay').toBeGreaterThan(0);
    expect(twoHost.remote.map((e: { id: string }) => e.id).sort()).toEqual(['postgres-db', 'redis-cache']);
    const crossing = (from: string, to: string) => twoHost.pairs.find((p: { from: string; to: string; bytes: number }) => p.from === from && p.to === to && p.bytes > 0);
    expect(crossing('product-service', 'redis-cache'), JSON.stringify(twoHost.pairs)).toMatchObject({ port: 6379 });
    expect(crossing('order-service', 'postgres-db'), JSON.stringify(twoHost.pairs)).toMatchObject({ port: 5432 });
    expect(oneHost.overlay, 'a host whose VXLAN is on no lab bridge: no overlay').toBeUndefined();
    expect(oneHost.remote).toEqual([]);
  }, 90_000);
});
