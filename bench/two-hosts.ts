import { fileURLToPath } from 'node:url';
import { upInVirtualHosts, VIRTUAL_HOST_DATA } from '../src/cli/virtual-hosts.ts';
import { topology } from '../src/topology/default.ts';
import { twoHosts } from '../src/topology/two-hosts.ts';
import { VirtualHost } from '../src/vhost/vhost.ts';

/**
 * Section 9: course day 6, the platform across two hosts, in virtual hosts (nothing on this
 * machine). (a) Cold start: `up --topology two-hosts --virtual-hosts` (both hosts made, both
 * halves up, side by side) against the default topology's `up --detach` in one virtual host, both
 * timed from making the host(s) to every service healthy, alternated. (b) Throughput of one TCP
 * stream from nginx-lb to redis-cache across the overlay (host A to host B: VXLAN over the
 * underlay) against the same stream over one host's bridge, network only and --policy open (the
 * stream's port is none of the platform's flows).
 */

const checkout = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 3;
const STREAM_BYTES = 256 * 1024 * 1024;

export interface TwoHostsBench {
  /** ms per cold start, one host and two hosts, per round. */
  oneHost: number[];
  twoHosts: number[];
  /** MB/s of one TCP stream, the same pair of namespaces: over one host's bridge, and across the overlay. */
  bridgeMBps: number[];
  overlayMBps: number[];
  streamBytes: number;
}

/** The default topology up in one virtual host of its own, as each two-host half is (its data root the host's own). */
async function oneHostUp(networkOnly: boolean): Promise<{ vh: VirtualHost; ms: number }> {
  const t0 = performance.now();
  const vh = await VirtualHost.create({ label: 'bench-one', world: false });
  const r = await vh.exec(['env', `ECOMNET_DATA_DIR=${VIRTUAL_HOST_DATA}`, process.execPath, 'bin/ecomnet.js', 'up', '--detach', ...(networkOnly ? ['--network-only', '--policy', 'open'] : [])], {
    cwd: checkout,
    allowFail: true,
  });
  if (r.exitCode !== 0) {
    await vh.destroy();
    throw new Error(`up in one virtual host exited ${r.exitCode}: ${r.stderr || r.stdout}`);
  }
  return { vh, ms: performance.now() - t0 };
}

/** One TCP stream of STREAM_BYTES from nginx-lb (on `src`) to redis-cache (on `dst`): MB/s as the receiver counts them. */
async function stream(src: VirtualHost, dst: VirtualHost): Promise<number> {
  const redis = topology.app.nodes.find((n) => n.component === 'redis')!;
  const port = '45001';
  const listener = dst.exec(['ip', 'netns', 'exec', redis.name, 'timeout', '60', 'sh', '-c', `nc -l ${redis.ip} ${port} | wc -c`], { timeoutMs: 70_000 });
  await dst.exec(['sh', '-c', `until ip netns exec ${redis.name} ss -Hltn "sport = :${port}" | grep -q .; do :; done`], { timeoutMs: 5000 });
  const t0 = performance.now();
  await src.exec(['ip', 'netns', 'exec', 'nginx-lb', 'sh', '-c', `head -c ${STREAM_BYTES} /dev/zero | nc -N ${redis.ip} ${port}`], { timeoutMs: 70_000 });
  const got = Number((await listener).stdout.trim());
  const s = (performance.now() - t0) / 1000;
  if (got !== STREAM_BYTES) throw new Error(`the stream delivered ${got} of ${STREAM_BYTES} bytes`);
  return STREAM_BYTES / 1e6 / s;
}

export async function twoHostsBench(say: (line: string) => void): Promise<TwoHostsBench> {
  const out: TwoHostsBench = { oneHost: [], twoHosts: [], bridgeMBps: [], overlayMBps: [], streamBytes: STREAM_BYTES };
  const quiet = () => {};
  for (let i = 0; i < ROUNDS; i++) {
    const one = await oneHostUp(false);
    out.oneHost.push(one.ms);
    await one.vh.destroy();
    const t0 = performance.now();
    const two = await upInVirtualHosts(twoHosts, 'two-hosts', { data: 'native', policy: 'deny', say: quiet });
    out.twoHosts.push(performance.now() - t0);
    await two.destroy();
    say(`9a round ${i + 1}: one host ${out.oneHost.at(-1)!.toFixed(0)} ms, two hosts ${out.twoHosts.at(-1)!.toFixed(0)} ms`);
  }
  const one = await oneHostUp(true);
  const two = await upInVirtualHosts(twoHosts, 'two-hosts', { data: 'native', policy: 'open', networkOnly: true, say: quiet });
  try {
    const [a, b] = two.hosts.map((h) => h.vh);
    for (let i = 0; i < ROUNDS; i++) {
      out.bridgeMBps.push(await stream(one.vh, one.vh));
      out.overlayMBps.push(await stream(a!, b!));
      say(`9b round ${i + 1}: bridge ${out.bridgeMBps.at(-1)!.toFixed(0)} MB/s, overlay ${out.overlayMBps.at(-1)!.toFixed(0)} MB/s`);
    }
  } finally {
    await Promise.all([one.vh.destroy(), two.destroy()]);
  }
  return out;
}

if (import.meta.main) {
  const say = (line: string) => console.error(`[bench] ${line}`);
  console.log(JSON.stringify(await twoHostsBench(say), null, 2));
}
