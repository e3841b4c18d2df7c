/**
 * learner/build.sh and teardown.sh run as root and take their orders from their work directory
 * (issue 21, finding 1). A directory a local user made first, with a `state` of their choosing,
 * FIFOs and links in it, is refused, wherever LEARNER_DIR points (the old default, /var/tmp, lets
 * anyone make it); and a state file of root's own is obeyed only in the shapes build.sh writes.
 * Each case runs in a virtual host, so what a script wrongly did would be done there alone. The
 * planted entries touch only what a virtual host has of its own (its namespaces, links, rules and
 * net.* sysctls; never kernel.core_pattern, which is the machine's).
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const learner = join(import.meta.dirname, '..', '..', 'learner');
/** A number no other process sleeps, so the victim's process is told apart. */
const NAP = `600.${process.pid}`;
const RULE = '-A FORWARD -s 192.0.2.7/32 -j DROP';

/** What root has on the virtual host that a planted state aims at: a namespace with a process in it, a link, a rule, a sysctl, a file. */
const VICTIMS = `ip netns add victim
(ip netns exec victim sleep ${NAP} </dev/null >/dev/null 2>&1 & echo $! >/root/victim.pid)
ip link add victim0 type bridge
iptables ${RULE}
echo original >/root/victim-file
useradd -M planter`;
const SNAPSHOT = `ip netns list
kill -0 "$(cat /root/victim.pid)" && echo "victim process alive"
ip -br link show victim0 | cut -d' ' -f1
iptables -S FORWARD
sysctl net.ipv4.conf.all.accept_local
cat /root/victim-file
ls /root`;

/** Entries no build.sh writes: flush others' rules, delete a rule of theirs, a sysctl, another's container, a data directory elsewhere. */
const FOREIGN = ['iptables -F FORWARD', `iptables ${RULE}`, 'sysctl net.ipv4.conf.all.accept_local=1', 'docker someone-elses', 'pgdata /root'];

/** Run as `planter` in DIR: a state naming root's victims, a pid file of root's process, FIFOs, links to root's files. */
const PLANT = (dir: string) => `set -e
cd ${dir}
printf '%s\\n' 'pg-mode namespace' 'netns victim' 'link victim0' ${FOREIGN.map((e) => `'${e}'`).join(' ')} >state
mkfifo redis.pid api-gateway.log
ln -s /root/victim-file product-service.log
ln -s /root/victim-file product-service.json
mkdir nginx && mkfifo nginx/nginx.pid`;

async function host() {
  const vh = await VirtualHost.create({ world: false, label: 'planted' });
  onTestFinished(() => vh.destroy());
  const sh = (cmd: string, env: string[] = [], input?: string) => vh.exec(['env', ...env, 'bash', '-c', cmd], { allowFail: true, timeoutMs: 150_000, input });
  const asPlanter = (cmd: string) => vh.exec(['runuser', '-u', 'planter', '--', 'bash', '-c', cmd], { allowFail: true });
  const made = await sh(`set -e\n${VICTIMS}`);
  expect(made.exitCode, made.stderr).toBe(0);
  const snapshot = async () => (await sh(SNAPSHOT)).stdout;
  const before = await snapshot();
  expect(before).toContain('victim process alive');
  return { sh, asPlanter, snapshot, before };
}

/** Makes DIR the planter's: in /var/tmp they make it themselves; /run is root's, so it stands for one a user was let to make there. */
const planterDir = (dir: string) => (dir.startsWith('/var/tmp/') ? `runuser -u planter -- mkdir ${dir}` : `install -d -o planter -g planter -m 0755 ${dir}`);

describe.each(['/var/tmp/ecomnet-learner', '/run/ecomnet-learner'])('a LEARNER_DIR %s a local user made first', (dir) => {
  it('teardown.sh refuses it and runs nothing its planted state says', async () => {
    const { sh, asPlanter, snapshot, before } = await host();
    expect((await sh(planterDir(dir))).exitCode).toBe(0);
    const plant = await asPlanter(PLANT(dir));
    expect(plant.exitCode, plant.stderr).toBe(0);
    const planted = await sh(`ls -la ${dir} ${dir}/nginx && cat ${dir}/state`);
    const td = await sh(`bash ${learner}/teardown.sh`, [`LEARNER_DIR=${dir}`]);
    expect(await snapshot(), td.stderr).toBe(before);
    expect(td.exitCode, td.stderr).toBe(1);
    expect(td.stderr).toMatch(/REFUSED/);
    // What was planted is left as it was: root neither followed nor replaced it.
    expect((await sh(`ls -la ${dir} ${dir}/nginx && cat ${dir}/state`)).stdout).toBe(planted.stdout);
  });

  it('build.sh refuses it, even empty, and builds nothing', async () => {
    const { sh, snapshot, before } = await host();
    expect((await sh(planterDir(dir))).exitCode).toBe(0);
    const build = await sh(`timeout 120 bash ${learner}/build.sh`, [`LEARNER_DIR=${dir}`, `LEARNER_REPO=${join(learner, '..')}`]);
    // Nothing built, nothing of root's written into the planter's directory.
    expect(await snapshot(), build.stderr).toBe(before);
    expect(build.exitCode, build.stderr).not.toBe(0);
    expect(build.stderr).toMatch(/LEARNER_DIR .* is not a directory of root's/);
    expect((await sh(`find ${dir} -mindepth 1 | wc -l; stat -c %U ${dir}`)).stdout).toBe('0\nplanter\n');
  });
});

describe("a state file of root's", () => {
  it('teardown.sh ignores, with a warning, every entry build.sh does not write', async () => {
    const { sh, snapshot, before } = await host();
    const dir = '/run/ecomnet-learner';
    const state = ['pg-mode namespace', ...FOREIGN].join('\n');
    const made = await sh(`install -d -m 0700 ${dir} && cat >${dir}/state && chmod 600 ${dir}/state`, [], `${state}\n`);
    expect(made.exitCode, made.stderr).toBe(0);
    const td = await sh(`bash ${learner}/teardown.sh`, [`LEARNER_DIR=${dir}`]);
    expect(await snapshot(), td.stderr).toBe(before);
    expect(td.exitCode, td.stderr).toBe(0);
    for (const entry of FOREIGN) expect(td.stderr).toContain(`ignoring an entry build.sh does not write: ${entry}`);
  });
});
