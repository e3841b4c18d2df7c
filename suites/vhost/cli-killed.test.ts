/**
 * `ecomnet verify --build` and `ecomnet grade` killed with SIGKILL while a build runs in its
 * virtual host: the real host shows nothing of it afterwards, no namespace, link, rule, mount,
 * account or process. Only the CLI itself is killed: what it started must go because it died.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { run } from '../../src/host/exec.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { hostState, initsOf } from './host.ts';

const root = join(import.meta.dirname, '..', '..');

/** How long the build's processes sleep: a number no other process on the host sleeps, so they can be told apart. */
const NAP = `600.${process.pid}`;
/** A build that sets up part of a lab, says so, and then keeps running. */
const BUILD = `ip netns add nginx-lb
ip link add br-app type bridge && ip addr add 10.0.0.1/16 dev br-app && ip link set br-app up
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE
useradd --system --no-create-home cli-killed-account
ip netns exec nginx-lb sleep ${NAP} &
echo lab up
sleep ${NAP}
`;

/** Runs the CLI with `args`, waits until every log in `logs` says the lab is up, kills the CLI alone, and checks the host. */
async function killedMidBuild(args: string[], logs: string[]) {
  const sleepers = async () => (await run(['pgrep', '-f', `sleep ${NAP}`], { allowFail: true })).stdout.trim();
  const before = await hostState();
  const cli = spawn(process.execPath, [join(root, 'bin', 'ecomnet.js'), ...args], { cwd: root, stdio: 'ignore' });
  // A test that fails before its kill must not leave the CLI and its hosts running.
  onTestFinished(() => void cli.kill('SIGKILL'));
  const exited = new Promise<NodeJS.Signals | null>((r) => cli.once('exit', (_c, s) => r(s)));
  const up = (f: string) => {
    try {
      return readFileSync(f, 'utf8').includes('lab up');
    } catch {
      return false;
    }
  };
  await waitFor(() => check(logs.every(up), 'the builds are not up yet'), { what: 'the builds', timeoutMs: 60_000, intervalMs: 20 });
  expect((await initsOf(cli.pid!)).length).toBe(logs.length);
  cli.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  await waitFor(async () => check(!(await initsOf(cli.pid!)).length, 'a virtual host still runs'), { what: 'the virtual hosts to end', timeoutMs: 15_000, intervalMs: 20 });
  await waitFor(async () => check(!(await sleepers()), 'its server still runs'), { what: "the build's servers to end", timeoutMs: 10_000, intervalMs: 20 });
  expect(await hostState()).toEqual(before);
}

describe('killed with SIGKILL mid-build, the CLI leaves nothing on the real host', () => {
  it('ecomnet verify --build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-killed-build-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'build.sh'), BUILD);
    await killedMidBuild(['verify', '--build', join(dir, 'build.sh'), '--reports', join(dir, 'reports')], [join(dir, 'reports', 'build.log')]);
  });

  it('ecomnet grade, two builds side by side', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-killed-class-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    for (const name of ['alice', 'bob']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'build.sh'), BUILD);
    }
    const reports = join(dir, 'reports');
    await killedMidBuild(['grade', join(dir, 'alice'), join(dir, 'bob'), '--jobs', '2', '--reports', reports], [join(reports, 'alice', 'build.log'), join(reports, 'bob', 'build.log')]);
  });
});
