/**
 * The host is not trusted east-west (issue 21, finding 8), shown on the platform's network built
 * inside a virtual host (`ecomnet up --network-only`), so nothing here touches the real host:
 * - route_localnet on the bridge (for the host's `curl localhost:8080`) lets no namespace reach
 *   the host's 127.0.0.1 (the CVE-2020-8558 pattern), under either policy;
 * - under `deny` the host's address reaches a namespace only on its service port, and a
 *   namespace reaches the host only with replies and ICMP; `open` stays the seed's flat network.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hostPort, nodeOf, topology } from '../../src/topology/default.ts';
import { comment } from '../../src/plan/rules.ts';
import type { Policy } from '../../src/topology/types.ts';
import { VirtualHost } from '../../src/vhost/vhost.ts';
import { check, waitFor } from '../../src/util/wait.ts';

const checkout = fileURLToPath(new URL('../..', import.meta.url));
const bridge = topology.app.bridge;
const redis = nodeOf('redis');
const product = nodeOf('product');
const nginx = nodeOf('nginx');
/** Ports nothing in the topology declares: a listener there is what a policy must not expose. */
const UNDECLARED = 7000;
const LOCAL_ONLY = 7001;

async function platformIn(policy: Policy): Promise<VirtualHost> {
  // No world: its segment is the outside the topology declares.
  const vh = await VirtualHost.create({ world: false, label: `boundary-${policy}` });
  onTestFinished(() => vh.destroy());
  const up = await vh.exec([process.execPath, 'bin/ecomnet.js', 'up', '--network-only', '--detach', '--policy', policy], { cwd: checkout, allowFail: true, timeoutMs: 120_000 });
  expect(up.exitCode, `${up.stdout}${up.stderr}`).toBe(0);
  return vh;
}

/** A listener inside (`ns` or the host's own), with what it receives; resolves once the socket listens. */
async function listen(vh: VirtualHost, ns: string | undefined, proto: 'tcp' | 'udp', ip: string, port: number): Promise<{ received: () => string }> {
  const inNs = (argv: string[]) => (ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv);
  const child: ChildProcess = vh.spawn(inNs(['nc', ...(proto === 'udp' ? ['-u'] : ['-k']), '-l', ip, String(port)]));
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  onTestFinished(() => {
    child.kill();
  });
  await waitFor(
    async () => {
      const r = await vh.exec(inNs(['ss', '-Hn', proto === 'udp' ? '-lu' : '-lt', `sport = :${port}`]), { allowFail: true });
      check(r.stdout.includes(`${ip}:${port}`), `nothing listens on ${proto} ${ip}:${port} yet`);
    },
    { what: `a ${proto} listener on ${ip}:${port}`, timeoutMs: 10_000 },
  );
  return { received: () => out };
}

/** Does a TCP connection from `ns` (or the host) to ip:port open? A REJECT answers at once; -w bounds a silent drop. */
async function opens(vh: VirtualHost, ns: string | undefined, ip: string, port: number): Promise<boolean> {
  const argv = ['nc', '-z', '-w', '2', ip, String(port)];
  return (await vh.exec(ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv, { allowFail: true })).exitCode === 0;
}

/** Packets our 127/8 guard dropped, from its counter (0 when there is no such rule). */
async function guardDrops(vh: VirtualHost): Promise<number> {
  const saved = await vh.exec(['iptables-save', '-c', '-t', 'filter'], { allowFail: true });
  const line = saved.stdout.split('\n').find((l) => l.includes(`"${comment(topology.tag, 'localnet-guard')}"`));
  return Number(/^\[(\d+):/.exec(line ?? '')?.[1] ?? 0);
}

/**
 * From inside `product`, a datagram for the host's 127.0.0.1 sent through the bridge, as a
 * neighbour on br-app can (its own local route for 127/8 replaced by one via the bridge address).
 * Waits for its fate: taken by the host's listener, or dropped by our guard.
 */
async function localnetProbe(vh: VirtualHost): Promise<{ delivered: boolean; dropped: number }> {
  const listener = await listen(vh, undefined, 'udp', '127.0.0.1', LOCAL_ONLY);
  const reroute = [
    'ip route del local 127.0.0.0/8 dev lo table local',
    'ip route del local 127.0.0.1 dev lo table local',
    `ip route add 127.0.0.1/32 via ${bridge.ip} dev ${product.veth}`,
    `echo from-${product.name} > /dev/udp/127.0.0.1/${LOCAL_ONLY}`,
  ].join(' && ');
  const sent = await vh.exec(['ip', 'netns', 'exec', product.name, 'bash', '-c', reroute], { allowFail: true });
  expect(sent.exitCode, sent.stderr).toBe(0);
  return waitFor(
    async () => {
      const fate = { delivered: listener.received().includes(`from-${product.name}`), dropped: await guardDrops(vh) };
      check(fate.delivered || fate.dropped > 0, 'the datagram was neither received nor dropped by the guard yet');
      return fate;
    },
    { what: "the fate of a datagram for the host's 127.0.0.1", timeoutMs: 10_000 },
  );
}

describe('the host is not trusted east-west (a virtual host with the network of `up --network-only`)', () => {
  it.each(['deny', 'open'] as const)('--policy %s: a namespace reaches nothing on the host 127.0.0.1 through the bridge; the host own curl localhost:PORT still does', async (policy) => {
    const vh = await platformIn(policy);
    await listen(vh, nginx.name, 'tcp', nginx.ip, nginx.port!);
    expect(await opens(vh, undefined, '127.0.0.1', hostPort()), `the host's localhost:${hostPort()} to ${nginx.name}`).toBe(true);
    expect(await localnetProbe(vh)).toEqual({ delivered: false, dropped: 1 });
  });

  it("--policy deny: the host reaches a namespace only on its service port, and a namespace opens nothing on the host's address", async () => {
    const vh = await platformIn('deny');
    await listen(vh, redis.name, 'tcp', redis.ip, redis.port!);
    await listen(vh, redis.name, 'tcp', redis.ip, UNDECLARED);
    await listen(vh, undefined, 'tcp', bridge.ip, UNDECLARED);
    expect(await opens(vh, undefined, redis.ip, redis.port!), `host -> ${redis.name}:${redis.port} (readiness, the observer)`).toBe(true);
    expect(await opens(vh, undefined, redis.ip, UNDECLARED), `host -> ${redis.name}:${UNDECLARED}`).toBe(false);
    expect(await opens(vh, product.name, bridge.ip, UNDECLARED), `${product.name} -> host ${bridge.ip}:${UNDECLARED}`).toBe(false);
  });

  it('--policy open: the seed flat network, host included', async () => {
    const vh = await platformIn('open');
    await listen(vh, redis.name, 'tcp', redis.ip, UNDECLARED);
    await listen(vh, undefined, 'tcp', bridge.ip, UNDECLARED);
    expect(await opens(vh, undefined, redis.ip, UNDECLARED)).toBe(true);
    expect(await opens(vh, product.name, bridge.ip, UNDECLARED)).toBe(true);
  });
});
