/**
 * A virtual host stands in for a whole machine and leaves nothing on the real one: what a build
 * does inside (namespaces, links, rules, sysctls, accounts, files, servers) is seen only inside,
 * nothing inside has a way out but its own simulated world, and killing whatever made it, at
 * any moment, takes everything with it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { priv } from '../../src/host/exec.ts';
import { alive } from '../../src/host/proc.ts';
import { NO_DOCKER, VirtualHost, WORLD } from '../../src/vhost/vhost.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { hostState, initsOf } from './host.ts';

/** Every process still in the PID namespace whose inode is `ns` (`pid:[4026...]`). */
async function processesIn(ns: string): Promise<number[]> {
  const r = await priv(['sh', '-c', 'for p in /proc/[0-9]*; do echo "$(basename $p) $(readlink $p/ns/pid 2>/dev/null)"; done'], { allowFail: true });
  return r.stdout
    .split('\n')
    .filter((l) => l.endsWith(` ${ns}`))
    .map((l) => Number(l.split(' ')[0]));
}

const pidNs = async (pid: number) => (await priv(['readlink', `/proc/${pid}/ns/pid`])).stdout.trim();

describe('a virtual host is a machine of its own', () => {
  it('what a build does inside is seen only inside; outside, the machine is unchanged', async () => {
    const before = await hostState();
    const vh = await VirtualHost.create({ forward: 'docker' });
    onTestFinished(() => vh.destroy());
    const inside = (cmd: string) => vh.exec(['bash', '-c', cmd], { allowFail: true });
    const made = await inside(
      'ip netns add nginx-lb && ip link add br-app type bridge && iptables -A FORWARD -j ACCEPT && sysctl -qw net.ipv4.ip_forward=1 && useradd --system vhost-probe-account && echo x > /etc/vhost-probe && echo x > /var/lib/vhost-probe && echo ok',
    );
    expect(made.stdout.trim(), made.stderr).toBe('ok');
    const seen = await inside('ip netns list; ip -br link show br-app; iptables -S FORWARD; sysctl -n net.ipv4.ip_forward; getent passwd vhost-probe-account; cat /etc/vhost-probe');
    expect(seen.stdout).toMatch(/^nginx-lb/m);
    expect(seen.stdout).toMatch(/^br-app/m);
    expect(seen.stdout).toContain('-A FORWARD -j ACCEPT');
    expect(seen.stdout).toContain('vhost-probe-account');
    // Docker's chains and policy, as on a GitHub runner.
    expect(seen.stdout).toContain('-P FORWARD DROP');
    expect(await hostState()).toEqual(before);
  });

  it("the machine's own filesystems are read-only inside, its copied ones write nowhere outside, and no Docker engine answers there", async () => {
    const vh = await VirtualHost.create();
    onTestFinished(() => vh.destroy());
    const root = await vh.exec(['sh', '-c', 'touch /vhost-write-probe'], { allowFail: true });
    expect(root.exitCode).not.toBe(0);
    expect(root.stderr).toMatch(/Read-only file system/);
    // This checkout may be under /home or /root, which a virtual host copies: a write there stays inside.
    const probe = join(import.meta.dirname, `vhost-write-probe-${process.pid}`);
    const here = await vh.exec(['sh', '-c', `touch ${probe} && ls ${probe}`], { allowFail: true });
    if (here.exitCode === 0) expect(here.stdout.trim()).toBe(probe);
    else expect(here.stderr).toMatch(/Read-only file system/);
    expect(existsSync(probe)).toBe(false);
    // This checkout is seen inside wherever it lives (one in /tmp, which a virtual host has of its own, is lent to it).
    expect((await vh.exec(['test', '-f', join(import.meta.dirname, '..', '..', 'package.json')], { allowFail: true })).exitCode).toBe(0);
    const docker = await vh.exec(['sh', '-c', 'echo "$DOCKER_HOST"'], {});
    expect(docker.stdout.trim()).toBe(NO_DOCKER);
  });

  it('its only way out is eth0 to its own world, which routes nowhere else: an outside address is unreachable', async () => {
    const vh = await VirtualHost.create();
    onTestFinished(() => vh.destroy());
    const routes = await vh.exec(['ip', '-o', 'route', 'show']);
    const lines = routes.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(lines.sort()).toEqual(
      [`${WORLD.host.ip.replace(/\.\d+$/, '.128')}/${WORLD.host.prefix} dev eth0 proto kernel scope link src ${WORLD.host.ip}`, `default via ${WORLD.client.ip} dev eth0`].sort(),
    );
    const world = await vh.exec(vh.worldArgv(['ip', '-o', 'route', 'show']));
    // The world knows its own segment and nothing beyond: a packet for anywhere else dies there.
    expect(world.stdout.trim().split('\n')).toHaveLength(1);
    expect(world.stdout).toMatch(/^203\.0\.113\.128\/25 dev wan0/);
    const seen = await vh.exec(['curl', '-sS', '-m', '2', `http://${WORLD.internet.ip}:${WORLD.internet.port}/`]);
    expect(seen.stdout.trim()).toBe(WORLD.host.ip);
  });
});

describe('killed with SIGKILL at any moment, whatever made it leaves nothing on the real host', () => {
  const moments = ['creating', 'created', 'step bridge', 'step rules', 'step account', 'step server', 'idle'];

  it.for(moments)('killed at "%s"', async (moment) => {
    const before = await hostState();
    const child = spawn(process.execPath, [join(import.meta.dirname, 'killed.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
    await waitFor(() => check(out.includes(`${moment}\n`) || out.includes(`${moment} `), `not at ${moment} yet: ${out}`), { what: moment, timeoutMs: 20_000, intervalMs: 5 });
    const init = Number(/^created (\d+)$/m.exec(out)?.[1]);
    const ns = init ? await pidNs(init) : undefined;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Its PID 1 sees its lifeline close and exits (mid-setup too); the kernel ends the rest and frees the namespaces.
    await waitFor(async () => check(!(await initsOf(child.pid!)).length && !(ns && (await processesIn(ns)).length), 'the virtual host still runs'), {
      what: 'the virtual host to end',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(await hostState()).toEqual(before);
  });
});

describe('destroyed as asked', () => {
  it('ends every process inside, and only those', async () => {
    const vh = await VirtualHost.create();
    await vh.exec(['sh', '-c', 'sleep 600 >/dev/null 2>&1 &']);
    const ns = await pidNs(vh.pid);
    expect((await processesIn(ns)).length).toBeGreaterThan(1);
    await vh.destroy();
    expect(vh.alive).toBe(false);
    await waitFor(async () => check(!(await processesIn(ns)).length, 'processes left'), { what: 'the host to end', timeoutMs: 5000, intervalMs: 20 });
    expect(alive(process.pid)).toBe(true);
  });
});
