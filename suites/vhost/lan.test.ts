/**
 * The machines of a two-host lab (course day 6) as virtual hosts: their eth0s share one LAN, the
 * underlay, on the addresses the topology declares, which nothing on the real host sees.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../src/host/exec.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import { virtualHostsOf } from '../../src/vhost/hosts.ts';
import { WORLD } from '../../src/vhost/vhost.ts';

const hosts = twoHosts.hosts!;
const [a, b] = hosts.list;

describe('two virtual hosts on one underlay', () => {
  it('each has its declared address on eth0 and reaches the other; the second routes out through the world; the real host has none of them', async () => {
    const [ha, hb] = await virtualHostsOf(hosts);
    onTestFinished(() => Promise.all([ha!.destroy(), hb!.destroy()]).then(() => {}));
    const addr = async (vh: typeof ha) => JSON.parse((await vh!.exec(['ip', '-j', '-4', 'addr', 'show', 'dev', hosts.underlay.dev])).stdout)[0].addr_info.map((x: { local: string }) => x.local);
    expect(await addr(ha)).toEqual(expect.arrayContaining([WORLD.host.ip, a!.underlay]));
    expect(await addr(hb)).toEqual([b!.underlay]);
    // No first packet lost to a port still learning its carrier: one ping each way.
    expect((await hb!.exec(['ping', '-c1', '-W1', a!.underlay], { allowFail: true })).exitCode).toBe(0);
    expect((await ha!.exec(['ping', '-c1', '-W1', b!.underlay], { allowFail: true })).exitCode).toBe(0);
    const seen = await hb!.exec(['curl', '-sS', '-m', '2', `http://${WORLD.internet.ip}:${WORLD.internet.port}/`]);
    expect(seen.stdout.trim()).toBe(b!.underlay);
    expect((await run(['ip', '-o', '-4', 'addr', 'show'])).stdout).not.toMatch(new RegExp(` (${a!.underlay}|${b!.underlay})/`));
  });

  it('what crosses the LAN is captured between the hosts, in the world', async () => {
    const [ha, hb] = await virtualHostsOf(hosts, { world: false });
    onTestFinished(() => Promise.all([ha!.destroy(), hb!.destroy()]).then(() => {}));
    const cap = run(ha!.lanArgv(['timeout', '5', 'tcpdump', '-n', '-l', '-c', '1', '-i', 'lan0', 'udp', 'and', 'port', '4789']), { allowFail: true });
    // tcpdump says it listens before the first packet can be missed; the datagram goes until it is seen.
    for (let i = 0; i < 50; i++) {
      await hb!.exec(['bash', '-c', `echo x >/dev/udp/${a!.underlay}/4789`], { allowFail: true });
      const done = await Promise.race([cap.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
      if (done) break;
    }
    const r = await cap;
    expect(r.stdout).toContain(`${b!.underlay}.`);
    expect(r.stdout).toContain(`${a!.underlay}.4789`);
    // Without a world, the hosts have the LAN and nothing else.
    expect((await hb!.exec(['ip', '-o', 'route'])).stdout.trim().split('\n')).toHaveLength(1);
  });
});
