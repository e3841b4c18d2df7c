import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { syntheticTopology } from '../../bench/synthetic.ts';
import { deletionText, taggedLines } from '../../src/host/iptables.ts';
import { alive, procStartTime } from '../../src/host/proc.ts';
import { ensureRunDir, runDirAt, runDirProblem, type PathStat } from '../../src/host/run-dir.ts';
import { StateError, validateState, type State } from '../../src/host/state.ts';
import { sysctlKeys } from '../../src/plan/plan.ts';
import { oldState } from '../support/state.ts';
import { stopInOrder } from '../../src/runtime/start-order.ts';
import { parseTopology, readTopologyFile } from '../../src/topology/parse.ts';
import { TopologyError } from '../../src/topology/validate.ts';
import type { BridgeSpec, Topology } from '../../src/topology/types.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';
import { topology as containers } from '../../fixtures/containers-topology.ts';
import { until } from '../../src/util/wait.ts';

/** Issue 12, "a host that trusts nothing it reads": the state file, the run directory, --topology. */

// Under /tmp whatever TMPDIR says: a run directory there is one ensureRunDir must refuse.
const base = mkdtempSync('/tmp/ecomnet-trust-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('taggedLines matches the tag literally', () => {
  const saved = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "sshd:allow" -j ACCEPT',
    '-A INPUT -m comment --comment "ecomnetZx:other" -j ACCEPT',
    '-A INPUT -m comment --comment "ecomnet.x:ours" -j ACCEPT',
    'COMMIT',
  ].join('\n');

  it('a tag with regular-expression characters matches no other comment, so nothing foreign is deleted', () => {
    expect(taggedLines(saved, '.*')).toEqual([]);
    expect(deletionText(saved, '[a-z]+')).toBe('');
    expect(taggedLines(saved, 'ecomnet.x').map((l) => l.id)).toEqual(['ours']);
  });
});

const keys = sysctlKeys(topology);

/** A state as the version before start times wrote it: every field but those. */
function currentState(): State {
  return oldState({
    services: [{ name: 'nginx', ns: 'nginx-lb', pid: 4242, log: '/run/ecomnet/logs/nginx.log' }],
    containers: ['0123456789ab', 'f'.repeat(64)],
    options: { data: 'native', networkOnly: false, guard: true, uplinkDev: 'eth0' },
    dataDir: `/var/lib/ecomnet/${topology.tag}`,
  });
}

function problemsOf(edit: (s: Record<string, unknown>) => void, t: Topology = topology): string[] {
  const s = structuredClone(currentState()) as unknown as Record<string, unknown>;
  edit(s);
  try {
    validateState(JSON.parse(JSON.stringify(s)), t);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(StateError);
    return (e as StateError).problems;
  }
}

describe('validateState: down acts only on a state its topology could have written', () => {
  it('accepts a state of the current version (no start times), and one without veths, uplinkDev or dataDir; no file stays undefined', () => {
    expect(validateState(JSON.parse(JSON.stringify(currentState())), topology)).toEqual(currentState());
    expect(
      problemsOf((s) => {
        delete s.veths;
        delete s.dataDir;
        delete (s.options as Record<string, unknown>).uplinkDev;
      }),
    ).toEqual([]);
    expect(problemsOf((s) => (s.accounts = ['ecomnet-gateway', 'ecomnet-product', 'ecomnet-order', 'ecomnet-nginx']))).toEqual([]);
    expect(validateState(undefined, topology)).toBeUndefined();
  });

  it('accepts the supervisor it records (pid and start time)', () => {
    expect(problemsOf((s) => (s.supervisor = { pid: 4243, startTime: 1234 }))).toEqual([]);
  });

  it.each([
    ['namespaces', (s: Record<string, unknown>) => (s.namespaces = ['nginx-lb', 'sshd']), /^namespaces: "sshd" is not a namespace declared by topology ecomnet/],
    ['bridges', (s: Record<string, unknown>) => (s.bridges = ['eth0']), /^bridges: "eth0"/],
    ['veths', (s: Record<string, unknown>) => (s.veths = ['eth0']), /^veths: "eth0"/],
    ['tag (a pattern)', (s: Record<string, unknown>) => (s.tag = '.*'), /^tag: "\.\*" is not a tag/],
    ['tag (another platform)', (s: Record<string, unknown>) => (s.tag = alt.tag), /^tag: "ecomnet-hp" is not the topology's tag "ecomnet"/],
    ['sysctls (another key)', (s: Record<string, unknown>) => (s.sysctls = [{ key: 'kernel.core_pattern', value: '1', before: '0' }]), /^sysctls: .*kernel\.core_pattern/],
    ['sysctls (a value)', (s: Record<string, unknown>) => (s.sysctls = [{ key: keys.forward, value: '1', before: '|/tmp/x' }]), /^sysctls: .*net\.ipv4\.ip_forward/],
    ['services (every process)', (s: Record<string, unknown>) => (s.services = [{ name: 'nginx', ns: 'nginx-lb', pid: -1, log: '' }]), /^services: .*"pid":-1/],
    ['services (init)', (s: Record<string, unknown>) => (s.services = [{ name: 'nginx', ns: 'nginx-lb', pid: 1, log: '' }]), /^services: /],
    ['services (not ours)', (s: Record<string, unknown>) => (s.services = [{ name: 'sshd', ns: 'nginx-lb', pid: 4242, log: '' }]), /^services: .*"sshd"/],
    ['services (another namespace)', (s: Record<string, unknown>) => (s.services = [{ name: 'nginx', ns: 'postgres-db', pid: 4242, log: '' }]), /^services: /],
    ['containers', (s: Record<string, unknown>) => (s.containers = ['registry']), /^containers: "registry" is not a Docker container id/],
    ['accounts (one of the host)', (s: Record<string, unknown>) => (s.accounts = ['ecomnet-gateway', 'root']), /^accounts: "root" is not an account of topology ecomnet/],
    ['accounts (another platform)', (s: Record<string, unknown>) => (s.accounts = ['ecomnet-hp-order']), /^accounts: "ecomnet-hp-order"/],
    ['options', (s: Record<string, unknown>) => (s.options = { data: 'host', networkOnly: false, guard: false }), /^options: /],
    ['version', (s: Record<string, unknown>) => (s.version = 2), /^version: 2 is not 1/],
    ['supervisor (init)', (s: Record<string, unknown>) => (s.supervisor = { pid: 1, startTime: 5 }), /^supervisor: /],
    ['supervisor (no start time)', (s: Record<string, unknown>) => (s.supervisor = { pid: 4242 }), /^supervisor: /],
    ['supervisor (a command)', (s: Record<string, unknown>) => (s.supervisor = 'kill -9 -1'), /^supervisor: "kill -9 -1"/],
    // `down --volumes` deletes what the data directory holds: only one named after the tag, by a plain absolute path.
    ['dataDir (a system directory)', (s: Record<string, unknown>) => (s.dataDir = '/etc'), /^dataDir: "\/etc" is not an absolute path ending in the topology's tag "ecomnet"/],
    ['dataDir (a way out)', (s: Record<string, unknown>) => (s.dataDir = '/var/lib/ecomnet/../../../etc/ecomnet'), /^dataDir: /],
    ['dataDir (relative)', (s: Record<string, unknown>) => (s.dataDir = 'ecomnet'), /^dataDir: /],
    ['dataDir (not a path)', (s: Record<string, unknown>) => (s.dataDir = ['/var/lib/ecomnet/ecomnet']), /^dataDir: /],
  ])('refuses a tampered %s, naming the field', (_, edit, message) => {
    const problems = problemsOf(edit);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('refuses what is not an object, and a state written for another topology', () => {
    expect(() => validateState([], topology)).toThrow(StateError);
    expect(problemsOf(() => {}, alt)).toEqual(expect.arrayContaining([expect.stringMatching(/^tag: /), expect.stringMatching(/^namespaces: "nginx-lb"/)]));
  });
});

/** A process of our own to stop: `sleep`, its start time as recorded at launch. */
function sleeper(): { pid: number; startTime: number } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  return { pid: child.pid!, startTime: procStartTime(child.pid!)! };
}

describe('stopInOrder signals a recorded pid only while it names the process that was started', () => {
  it('stops the recorded process; leaves a pid whose start time differs (reused) or is not recorded (older state), and says so', async () => {
    const [ours, reused, old] = [sleeper(), sleeper(), sleeper()];
    const dir = runDirAt(mkdtempSync(join(base, 'stop-')));
    const state: State = {
      ...currentState(),
      services: [
        { name: 'gateway', ns: 'api-gateway', ...ours, log: '' },
        { name: 'product', ns: 'product-service', pid: reused.pid, startTime: reused.startTime + 1, log: '' },
        { name: 'order', ns: 'order-service', pid: old.pid, log: '' },
      ],
    };
    const said: string[] = [];
    try {
      await stopInOrder(dir, state, (step) => said.push(step));
      expect(await until(() => !alive(ours.pid), { timeoutMs: 5000 })).toBe(true);
      expect([alive(reused.pid), alive(old.pid)]).toEqual([true, true]);
      expect(said).toEqual([`stopped 2 services; not signalled, no start time recorded (they go with their namespaces): order (pid ${old.pid})`]);
    } finally {
      for (const p of [ours, reused, old]) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    }
  });
});

const directory = (path: string, uid: number, mode: number): PathStat => ({ path, uid, mode: 0o040000 | mode });
const link = (path: string, uid: number): PathStat => ({ path, uid, mode: 0o120777 });
const root = directory('/', 0, 0o755);
const run = directory('/run', 0, 0o755);

describe('runDirProblem: root keeps its state only where no one else can change it', () => {
  it('accepts /run/ecomnet and the test and bench run directories, root-owned 0755 under /run; a sticky directory above is fine', () => {
    for (const d of ['/run/ecomnet', '/run/ecomnet-lifecycle-test', '/run/ecomnet-bench']) expect(runDirProblem(directory(d, 0, 0o755), [root, run, directory(d, 0, 0o755)], [0])).toBeUndefined();
    const lock = directory('/run/lock', 0, 0o1777);
    expect(runDirProblem(directory('/run/lock/ecomnet', 0, 0o755), [root, run, lock, directory('/run/lock/ecomnet', 0, 0o755)], [0])).toBeUndefined();
  });

  it.each([
    ['/tmp', [root, directory('/tmp', 0, 0o1777)], 'it is under /tmp, where anyone may create files'],
    ['/var/tmp', [root, directory('/var', 0, 0o755), directory('/var/tmp', 0, 0o1777)], 'it is under /var/tmp'],
    ['/dev/shm', [root, directory('/dev', 0, 0o755), directory('/dev/shm', 0, 0o1777)], 'it is under /dev/shm'],
    ['a link into /tmp', [root, directory('/srv', 0, 0o755), link('/srv/run', 0), root, directory('/tmp', 0, 0o1777)], 'it is under /tmp'],
    ['a world-writable parent without the sticky bit', [root, directory('/srv', 0, 0o777)], '/srv is writable by others (mode 0777) without the sticky bit'],
    ["another user's parent", [root, directory('/home', 0, 0o755), directory('/home/bob', 1001, 0o755)], '/home/bob belongs to uid 1001'],
    ["another user's link", [root, directory('/srv', 0, 0o755), link('/srv/run', 1001)], '/srv/run belongs to uid 1001'],
  ])('refuses a run directory with %s', (_, above, message) => {
    const dir = directory(`${above.at(-1)!.path}/ecomnet`, 0, 0o755);
    expect(runDirProblem(dir, [...above, dir], [0])).toContain(message);
  });

  it("refuses a run directory that is group- or world-writable, or not root's", () => {
    for (const mode of [0o775, 0o757, 0o1777]) expect(runDirProblem(directory('/run/ecomnet', 0, mode), [root, run], [0])).toMatch(/group- or world-writable/);
    expect(runDirProblem(directory('/run/ecomnet', 1000, 0o755), [root, run], [0])).toBe('/run/ecomnet belongs to uid 1000, who could replace what is under it');
  });

  it('under sudo the invoking user may own it, still writable by no one else', () => {
    expect(runDirProblem(directory('/run/ecomnet', 1000, 0o755), [root, run], [0, 1000])).toBeUndefined();
    expect(runDirProblem(directory('/run/ecomnet', 1000, 0o775), [root, run], [0, 1000])).toMatch(/group- or world-writable/);
  });

  it('ensureRunDir refuses ECOMNET_RUN_DIR under /tmp, naming why', async () => {
    const dir = mkdtempSync(join(base, 'run-'));
    await expect(ensureRunDir(runDirAt(dir))).rejects.toThrow(`refusing the run directory ${dir}: it is under /tmp`);
  });
});

describe('--topology takes data, checked field by field, never code', () => {
  it('reads back every topology the tests, the bench and the CLI use, from JSON', () => {
    for (const t of [topology, alt, containers, syntheticTopology(6)]) expect(parseTopology(JSON.parse(JSON.stringify(t)))).toEqual(t);
  });

  it('a TypeScript module given as --topology is refused unread, and its code does not run', () => {
    const dir = mkdtempSync(join(base, 'topology-'));
    const marker = join(dir, 'ran');
    const file = join(dir, 'topology.ts');
    writeFileSync(file, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '');\nexport const topology = ${JSON.stringify(alt)};\n`);
    expect(() => readTopologyFile(file)).toThrow(/is not JSON .*--topology takes a topology as JSON data/);
    expect(existsSync(marker)).toBe(false);
  });

  function problems(edit: (t: Topology) => void): string[] {
    const t = structuredClone(alt);
    edit(t);
    try {
      parseTopology(JSON.parse(JSON.stringify(t)));
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(TopologyError);
      return (e as TopologyError).problems;
    }
  }

  it.each([
    ['an extra key', (t: Topology) => Object.assign(t.app.nodes[0]!, { shell: 'id' }), 'app.nodes[0].shell: no such field'],
    ['a missing field', (t: Topology) => delete (t.outside.bridge as Partial<BridgeSpec>).ip, 'outside.bridge.ip: missing'],
    ['a name with a command in it', (t: Topology) => (t.app.nodes[0]!.name = 'a\nnetns del b'), 'app.nodes[0].name: "a\\nnetns del b" is not a name'],
    ['an address that is not one', (t: Topology) => (t.app.nodes[1]!.ip = '10.201.0.20 -j ACCEPT'), 'app.nodes[1].ip: "10.201.0.20 -j ACCEPT" is not an IPv4 address'],
    ['a subnet with a trailing line', (t: Topology) => (t.app.subnet = '10.201.0.0/24\n'), 'app.subnet: "10.201.0.0/24\\n" is not an IPv4 CIDR'],
    ['a port as text', (t: Topology) => Object.assign(t.app.nodes[0]!, { port: '80' }), 'app.nodes[0].port: "80" is not a port (1..65535)'],
    ['a port out of range', (t: Topology) => (t.portForwards[0]!.hostPort = 70000), 'portForwards[0].hostPort: 70000 is not a port'],
    ['an unknown component', (t: Topology) => Object.assign(t.app.nodes[0]!, { component: 'shell' }), 'app.nodes[0].component: "shell" is not one of'],
    ['a role of two lines', (t: Topology) => (t.app.nodes[0]!.role = 'a\nb'), 'app.nodes[0].role: "a\\nb" is not one line of text'],
    ['a list that is not one', (t: Topology) => Object.assign(t, { portForwards: {} }), 'portForwards: {} is not a list'],
    ['a tag that is not one (validate)', (t: Topology) => (t.tag = 'Ecomnet.*'), 'tag "Ecomnet.*" must be lowercase and contain "ecomnet"'],
  ])('refuses %s, naming where', (_, edit, message) => {
    expect(problems(edit)).toEqual([expect.stringContaining(message)]);
  });

  it('refuses a __proto__ key and a document that is not an object', () => {
    expect(() => parseTopology(JSON.parse(`{"__proto__": {}, ${JSON.stringify(alt).slice(1)}`))).toThrow('__proto__: no such field');
    expect(() => parseTopology([])).toThrow('the topology: [] is not an object');
  });
});
