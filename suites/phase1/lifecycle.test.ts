import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { priv } from '../../src/host/exec.ts';
import { HOOKS, ownedChain, peerName } from '../../src/topology/validate.ts';
import { readSysctl } from '../../src/host/facts.ts';
import { detectBackend, ownedLines, restore, save, taggedLines } from '../../src/host/iptables.ts';
import { gatherFacts } from '../../src/host/facts.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { JUMP_ID, ruleArgs } from '../../src/plan/rules.ts';
import { listNamespaces } from '../../src/host/links.ts';
import { procState } from '../../src/host/proc.ts';
import { leftovers } from '../../src/cleanup.ts';
import { testRunDirs } from '../../src/host/run-dir.ts';
import { cli, ecomnet, topologyFile } from '../support/cli.ts';

const altFile = topologyFile(alt);
const altDir = testRunDirs.lifecycle;
const foreign = ['INPUT', '-p', 'tcp', '--dport', '9', '-m', 'comment', '--comment', 'foreign-test-rule', '-j', 'ACCEPT'];

const altUp = () => ecomnet(['up', '--detach', '--network-only', '--topology', altFile], altDir);
const altDown = () => ecomnet(['down', '--topology', altFile], altDir);
const altLeftovers = () => leftovers(alt);

async function mainRules(): Promise<string[]> {
  return ownedLines(await save(await detectBackend()), topology.tag);
}

describe('lifecycle of a second, independent platform (host preservation, idempotence, rollback, crash)', () => {
  let iptables = 'iptables';
  beforeAll(async () => {
    iptables = (await detectBackend()).iptables;
    await priv([iptables, '-A', ...foreign]);
  });
  beforeEach(async () => {
    await altDown();
  });
  afterAll(async () => {
    await priv([iptables, '-D', ...foreign], { allowFail: true });
    await altDown();
    await priv(['rm', '-rf', altDir]);
    rmSync(dirname(altFile), { recursive: true, force: true });
  });

  it('up, a second up that changes nothing, then down: the host is as before and a foreign rule survives', async () => {
    const mainBefore = await mainRules();
    const forwardBefore = readSysctl('net.ipv4.ip_forward');
    const first = await altUp();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await altLeftovers()).not.toEqual([]);
    const b = await detectBackend();
    const rules = async () =>
      (await save(b))
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n')
        .replace(/\[\d+:\d+\]/g, '');
    const rulesAfterFirst = await rules();
    const second = await altUp();
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toContain('already up: nothing to change');
    expect(await rules()).toBe(rulesAfterFirst);
    const d = await altDown();
    expect(d.exitCode, d.stderr).toBe(0);
    expect(await altLeftovers()).toEqual([]);
    expect((await priv([iptables, '-C', ...foreign], { allowFail: true })).exitCode).toBe(0);
    expect(readSysctl('net.ipv4.ip_forward')).toBe(forwardBefore);
    expect(await mainRules()).toEqual(mainBefore);
    const again = await altDown();
    expect(again.exitCode, 'down is idempotent').toBe(0);
  });

  it('down also removes what the version before owned chains left (tagged rules in built-in chains) and a doubled jump, and nothing foreign', async () => {
    expect((await altUp()).exitCode).toBe(0);
    const b = await detectBackend();
    const plan = buildPlan(alt, await gatherFacts(alt, b), { guard: false });
    // Every rule of ours straight in the chain its jump sits in, as that version appended them.
    const legacy = plan.jumps.map((j) => [`*${j.table}`, ...plan.rules.filter((r) => r.chain === j.chain).map((r) => ['-A', j.from, ...ruleArgs(alt.tag, r)].join(' ')), 'COMMIT'].join('\n'));
    await restore(b, `${legacy.join('\n')}\n`);
    // The plan once more over the live chains: they are emptied and refilled, the jumps double.
    await restore(b, plan.restore);
    const tagged = taggedLines(await save(b), alt.tag);
    expect(tagged.filter((l) => l.id === JUMP_ID)).toHaveLength(2 * plan.jumps.length);
    const ours = new Set(plan.jumps.map((j) => j.chain));
    expect(tagged.filter((l) => !ours.has(l.chain) && l.id !== JUMP_ID)).toHaveLength(plan.rules.length);
    expect(tagged.filter((l) => ours.has(l.chain))).toHaveLength(plan.rules.length);
    const d = await altDown();
    expect(d.exitCode, d.stderr).toBe(0);
    expect(await altLeftovers()).toEqual([]);
    expect((await priv([iptables, '-C', ...foreign], { allowFail: true })).exitCode).toBe(0);
  });

  it('a failure half way rolls back what was applied, names the failing step, and leaves a foreign link alone', async () => {
    const blocker = peerName(alt.app.nodes[1]!.veth);
    await priv(['ip', 'link', 'add', blocker, 'type', 'bridge']);
    try {
      const r = await altUp();
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('step "namespaces, bridges, veth pairs" failed');
      expect(r.stderr).toContain(`\`ip link add ${blocker} type veth`);
      expect(await altLeftovers()).toEqual([blocker]);
    } finally {
      await priv(['ip', 'link', 'del', blocker]);
    }
  });

  it('a half-broken platform is cleaned and rebuilt by up, not reused', async () => {
    expect((await altUp()).exitCode).toBe(0);
    const broken = alt.app.nodes[1]!.name;
    await priv(['ip', 'netns', 'del', broken]);
    const again = await altUp();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('already up');
    expect(await listNamespaces()).toContain(broken);
    expect((await priv(['ip', '-n', broken, '-br', 'addr', 'show', alt.app.nodes[1]!.veth])).stdout).toContain(alt.app.nodes[1]!.ip);
  });

  it.each([
    { at: 'links', rulesYet: false },
    { at: 'rules', rulesYet: true },
  ])('kill -9 during up, once the $at step is done, then down: nothing of it remains', async ({ at, rulesYet }) => {
    const child = spawn(process.execPath, [cli, 'up', '--detach', '--network-only', '--topology', altFile], {
      env: { ...process.env, ECOMNET_RUN_DIR: altDir, ECOMNET_PAUSE_AFTER: at },
      stdio: 'ignore',
    });
    // Listening from the start: an exit that happens before the kill is not missed.
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    // The CLI's state letter in /proc (T: stopped at its pause point).
    await waitFor(() => check(procState(child.pid!) === 'T', `the CLI has not reached its pause point "${at}"`), { what: `ecomnet up paused after ${at}`, timeoutMs: 60_000, intervalMs: 20 });
    const before = await altLeftovers();
    expect(before).toEqual(expect.arrayContaining(alt.app.nodes.map((n) => n.name)));
    expect(before.some((l) => l.includes(`${alt.tag}:`))).toBe(rulesYet);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const d = await altDown();
    expect(d.exitCode, d.stderr).toBe(0);
    expect(await altLeftovers()).toEqual([]);
  });
});

describe('the running platform, from the CLI', () => {
  it('a second up while the test run holds the platform is refused, naming the holder', async () => {
    const r = await ecomnet(['up', '--detach']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/another ecomnet is running on this host: pid \d+ \(`npm test`/);
  });

  it('up --dry-run prints the plan as a script and changes nothing', async () => {
    const before = await mainRules();
    const r = await ecomnet(['up', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const n of topology.app.nodes) expect(r.stdout).toContain(`ip netns add ${n.name}\n`);
    expect(r.stdout).toContain("iptables-restore --noflush <<'EOF'");
    for (const hook of HOOKS) expect(r.stdout).toContain(`:${ownedChain(topology.tag, hook)} - [0:0]\n`);
    expect(r.stdout).toMatch(new RegExp(`^-I (FORWARD|DOCKER-USER) -m comment --comment "${topology.tag}:${JUMP_ID}" -j ${ownedChain(topology.tag, 'FORWARD')}$`, 'm'));
    expect(await mainRules()).toEqual(before);
  });

  it('status --json reports every service healthy in its namespace', async () => {
    const r = await ecomnet(['status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { up: boolean; nodes: { namespace: string; service?: string; health: string; exists: boolean }[] };
    expect(s.up).toBe(true);
    expect(s.nodes.every((n) => n.exists)).toBe(true);
    const services = s.nodes.filter((n) => n.service && n.namespace !== topology.outside.nodes[0]!.name);
    expect(services.length).toBeGreaterThanOrEqual(topology.app.nodes.length);
    expect(services.filter((n) => n.health !== 'healthy')).toEqual([]);
  });

  it('doctor finds privileges, kernel features and every tool on this host', async () => {
    const r = await ecomnet(['doctor']);
    for (const check of ['privileges', 'network namespaces', 'bridge', 'veth', 'tool ip', 'tool iptables', 'tool nginx', 'tool postgres'])
      expect(r.stdout).toMatch(new RegExp(`^ok\\s+${check}\\s`, 'm'));
  });
});
