/**
 * One host, several users (issue 21): root and sudo users take turns with the platform and no
 * run's leftover locks the next one out; a user without passwordless sudo is told what to run
 * before anything is attempted; ECOMNET_RUN_DIR naming a directory that is not a run directory
 * is never handed to anyone. Each in a virtual host of its own, whose /etc (accounts, sudoers)
 * and /run are its own: the real host is never touched.
 */
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'ecomnet.js');
/** A normal user's PATH on Debian (no /usr/sbin), with this Node. */
const PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
const RUN_DIR = '/run/ecomnet';

/** Every user must be able to read this checkout and run Node, or nothing here can be tried. */
const readable = (await priv(['runuser', '-u', 'nobody', '--', 'test', '-r', cli, '-a', '-x', process.execPath], { allowFail: true })).exitCode === 0;
if (!readable) console.log(`one host, several users: skipped: the user nobody cannot read ${cli} or run ${process.execPath}`);

/** A virtual host with sudo users alice and carol (passwordless) and bob (no sudo at all). */
async function host(): Promise<VirtualHost> {
  const vh = await VirtualHost.create({ world: false, label: 'users' });
  onTestFinished(() => vh.destroy());
  const made = await vh.exec(
    ['bash', '-c', 'set -e; for u in alice bob carol; do useradd -m "$u"; done; for u in alice carol; do echo "$u ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/$u; chmod 0440 /etc/sudoers.d/$u; done'],
    { allowFail: true },
  );
  expect(made.exitCode, made.stderr).toBe(0);
  return vh;
}

/** `ecomnet ARGS` as `user` (root, or through runuser as a normal login would, with that user's PATH and HOME). */
async function ecomnet(vh: VirtualHost, user: string, args: string[], env: Record<string, string> = {}) {
  const as = user === 'root' ? [] : ['runuser', '-u', user, '--'];
  const vars = Object.entries({ PATH, HOME: user === 'root' ? '/root' : `/home/${user}`, ...env }).map(([k, v]) => `${k}=${v}`);
  const r = await vh.exec([...as, 'env', '-i', ...vars, process.execPath, cli, ...args], { allowFail: true, cwd: root, timeoutMs: 60_000 });
  return { ...r, said: `${user}$ ecomnet ${args.join(' ')} → exit ${r.exitCode}\n${r.stdout}${r.stderr}` };
}

const inside = async (vh: VirtualHost, cmd: string) => (await vh.exec(['bash', '-c', cmd], { allowFail: true })).stdout.trim();
const namespaces = (vh: VirtualHost) => inside(vh, 'ip netns list');
const ours = topology.app.nodes.map((n) => n.name);

describe('one host, several users', () => {
  // Twelve CLI runs by four users, each a whole up, status and down: longer than a unit test's default on a loaded 2-core runner.
  it.skipIf(!readable)(
    'a sudo user, root, another sudo user and the first again each bring the platform up and down in turn; a leftover locks no one out',
    async () => {
      const vh = await host();
      const turn = async (user: string) => {
        const up = await ecomnet(vh, user, ['up', '--network-only', '--detach']);
        expect(up.exitCode, up.said).toBe(0);
        expect(await namespaces(vh)).toContain(ours[0]);
        const shown = await ecomnet(vh, user, ['status']);
        expect(shown.exitCode, shown.said).toBe(0);
        const down = await ecomnet(vh, user, ['down']);
        expect(down.exitCode, down.said).toBe(0);
        expect(await namespaces(vh)).toBe('');
      };
      await turn('alice');
      // What the issue met: every root command refused alice's leftover.
      const rootStatus = await ecomnet(vh, 'root', ['status']);
      expect(rootStatus.exitCode, rootStatus.said).toBe(3);
      expect(rootStatus.stderr).not.toContain('refusing');
      await turn('root');
      await turn('carol');
      await turn('alice');
      // What a run keeps after `down` is its logs, for a post-mortem; the next user of either kind reclaims them.
      expect(await inside(vh, `ls -A ${RUN_DIR}`)).toBe('logs');
    },
    120_000,
  );

  it.skipIf(!readable)('a platform another user has up is neither adopted nor removed: the refusal names its owner and what to run', async () => {
    const vh = await host();
    const up = await ecomnet(vh, 'alice', ['up', '--network-only', '--detach']);
    expect(up.exitCode, up.said).toBe(0);
    const rootUp = await ecomnet(vh, 'root', ['up', '--network-only', '--detach']);
    expect(rootUp.exitCode, rootUp.said).toBe(1);
    expect(rootUp.stderr).toContain('alice');
    expect(rootUp.stderr).toContain(`sudo -u alice ${process.execPath} ${cli} down`);
    const carolDown = await ecomnet(vh, 'carol', ['down']);
    expect(carolDown.exitCode, carolDown.said).toBe(1);
    expect(carolDown.stderr).toContain(`sudo -u alice ${process.execPath} ${cli} down`);
    // Still alice's, still up, and she can take it down.
    expect(await inside(vh, `stat -c %U ${RUN_DIR}`)).toBe('alice');
    expect(await namespaces(vh)).toContain(ours[0]);
    const down = await ecomnet(vh, 'alice', ['down']);
    expect(down.exitCode, down.said).toBe(0);
  });

  it.skipIf(!readable)('a user without passwordless sudo is told what is needed and what to run instead, and nothing changes', async () => {
    const vh = await host();
    // /run/sudo is sudo's own (its timestamps, made when it asks for the password).
    const seen = () => inside(vh, 'ls -A /run | grep -vx sudo; ls -A /var/lib; ip netns list');
    const before = await seen();
    for (const args of [['up', '--network-only', '--detach'], ['down']]) {
      const r = await ecomnet(vh, 'bob', args);
      expect(r.exitCode, r.said).not.toBe(0);
      expect(r.stderr, r.said).toContain('passwordless sudo');
      expect(r.stderr, r.said).toContain(`sudo ${process.execPath} ${cli} ${args.join(' ')}`);
      expect(r.stderr, r.said).not.toContain('sudo -n');
    }
    // Through npx, the suggestion is npx's.
    const npx = await ecomnet(vh, 'bob', ['up', '--network-only'], { npm_command: 'exec', npm_lifecycle_event: 'npx' });
    expect(npx.stderr, npx.said).toContain('sudo npx ecomnet up --network-only');
    expect(await seen()).toBe(before);
  });

  it.skipIf(!readable)('ECOMNET_RUN_DIR naming a directory that is not a run directory is refused, never handed to the user', async () => {
    const vh = await host();
    await inside(vh, 'mkdir -p /srv/shared && echo keep > /srv/shared/data');
    const r = await ecomnet(vh, 'alice', ['down'], { ECOMNET_RUN_DIR: '/srv/shared' });
    expect(r.exitCode, r.said).toBe(1);
    expect(r.stderr).toContain('not a run directory');
    expect(await inside(vh, 'stat -c "%U %a" /srv/shared; cat /srv/shared/data')).toBe('root 755\nkeep');
  });
});
