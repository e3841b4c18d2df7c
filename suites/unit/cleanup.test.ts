import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { cleanup } from '../../src/cleanup.ts';
import { priv, run } from '../../src/host/exec.ts';
import { removeOwned } from '../../src/host/iptables.ts';
import { ipBatch } from '../../src/host/links.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { writeState, type State } from '../../src/host/state.ts';
import { setSysctls } from '../../src/host/sysctl.ts';
import { removeContainers } from '../../src/runtime/engine.ts';
import { sysctlKeys } from '../../src/plan/plan.ts';
import { oldState } from '../support/state.ts';
import { escapeRegExp } from '../../src/util/text.ts';

// Nothing here reaches the host: every command, link, rule, sysctl and engine call is a spy.
vi.mock('../../src/host/exec.ts', async (actual) => ({
  ...(await actual<typeof import('../../src/host/exec.ts')>()),
  priv: vi.fn(async () => ({ stdout: '', stderr: '', exitCode: 0, durationMs: 0 })),
  run: vi.fn(async () => ({ stdout: '', stderr: '', exitCode: 0, durationMs: 0 })),
}));
vi.mock('../../src/host/iptables.ts', async (actual) => ({
  ...(await actual<typeof import('../../src/host/iptables.ts')>()),
  detectBackend: vi.fn(async () => ({ save: 'iptables-save', restore: 'iptables-restore', iptables: 'iptables', name: 'test' })),
  removeOwned: vi.fn(async () => {}),
}));
vi.mock('../../src/host/links.ts', async () => {
  const { topology: t } = await import('../../src/topology/default.ts');
  const nodes = [...t.app.nodes, ...t.outside.nodes];
  return {
    // The host holds ours and foreign ones of the names a tampered state asks for.
    listNamespaces: vi.fn(async () => [...nodes.map((n) => n.name), 'sshd']),
    listLinks: vi.fn(async () => [t.app.bridge.name, t.outside.bridge.name, 'eth0']),
    linkedAcrossNamespaces: vi.fn(async (names: string[]) => names),
    ipBatch: vi.fn(async () => {}),
    waitGone: vi.fn(async () => {}),
    nsPids: vi.fn(async () => []),
  };
});
vi.mock('../../src/host/sysctl.ts', () => ({ setSysctls: vi.fn(async () => {}) }));
vi.mock('../../src/runtime/engine.ts', async (actual) => ({
  ...(await actual<typeof import('../../src/runtime/engine.ts')>()),
  engineReachable: vi.fn(async () => true),
  removeContainers: vi.fn(async () => 0),
}));

const nodes = [...topology.app.nodes, ...topology.outside.nodes];
const keys = sysctlKeys(topology);
const base = mkdtempSync(join(tmpdir(), 'ecomnet-cleanup-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A state as the version before start times wrote it. */
const currentState = (): State => oldState({ services: [{ name: 'gateway', ns: 'api-gateway', pid: 4242, log: '' }], options: { data: 'containers', networkOnly: false, guard: false } });

describe('down (cleanup) acts only on a state its topology could have written', () => {
  beforeEach(() => vi.clearAllMocks());

  it('a tampered state: nothing it names is touched, only what the tag marks goes, and the user is told which field', async () => {
    const dir = runDirAt(mkdtempSync(join(base, 'run-')));
    const tampered = { ...currentState(), namespaces: ['nginx-lb', 'sshd'], bridges: ['eth0'], sysctls: [{ key: 'kernel.core_pattern', value: '|/tmp/x', before: 'core' }], containers: ['registry'] };
    writeState(dir, tampered);
    const progress: string[] = [];
    await expect(cleanup(dir, (s) => progress.push(s), topology)).rejects.toThrow(
      new RegExp(
        `^${escapeRegExp(dir.state)}: the state file is not ours .*\\n  - namespaces: "sshd" .*\\n  - bridges: "eth0" .*\\n  - sysctls: .*kernel\\.core_pattern.*\\n  - containers: "registry" .*\\nNothing it names was touched`,
        's',
      ),
    );
    expect(removeOwned).toHaveBeenCalledExactlyOnceWith(expect.anything(), topology.tag);
    expect(removeContainers).toHaveBeenCalledExactlyOnceWith([], topology.tag);
    expect(ipBatch).not.toHaveBeenCalled();
    expect(setSysctls).not.toHaveBeenCalled();
    expect(priv).not.toHaveBeenCalled();
    expect(run).not.toHaveBeenCalled();
    expect(existsSync(dir.state)).toBe(true);
  });

  it('a state of the current version (no start times) is still removed; its pid is not signalled, and that is said', async () => {
    const dir = runDirAt(mkdtempSync(join(base, 'run-')));
    writeState(dir, currentState());
    const progress: string[] = [];
    await cleanup(dir, (s) => progress.push(s), topology);
    expect(progress).toContain('stopped 0 services; not signalled, no start time recorded (they go with their namespaces): gateway (pid 4242)');
    expect(ipBatch).toHaveBeenCalledExactlyOnceWith([...nodes.map((n) => `netns del ${n.name}`), `link del ${topology.app.bridge.name}`, `link del ${topology.outside.bridge.name}`], { force: true });
    expect(priv).not.toHaveBeenCalledWith(expect.arrayContaining(['kill']), expect.anything());
    for (const [pairs] of vi.mocked(setSysctls).mock.calls) expect(pairs.every((p) => p.key === keys.forward && p.value === '0')).toBe(true);
    expect(existsSync(dir.state)).toBe(false);
  });

  it('faults still injected are removed first, exactly those recorded, and their record goes', async () => {
    const dir = runDirAt(mkdtempSync(join(base, 'run-')));
    writeState(dir, currentState());
    writeFileSync(
      dir.faults,
      JSON.stringify([
        { kind: 'link-down', ns: 'product-service' },
        { kind: 'loss', ns: 'order-service', percent: 5 },
      ]),
    );
    const progress: string[] = [];
    await cleanup(dir, (s) => progress.push(s), topology);
    const commands = vi.mocked(priv).mock.calls.map(([argv]) => argv.join(' '));
    expect(commands.slice(0, 5)).toEqual([
      'ip netns exec order-service iptables -w -D INPUT -i veth-order -j ECOMNET-FAULT',
      'ip netns exec order-service iptables -w -D OUTPUT -o veth-order -j ECOMNET-FAULT',
      'ip netns exec order-service iptables -w -F ECOMNET-FAULT',
      'ip netns exec order-service iptables -w -X ECOMNET-FAULT',
      'ip link set veth-product-br up',
    ]);
    expect(progress).toContain('clear faults: link-down product-service, loss order-service 5%');
    expect(existsSync(dir.faults)).toBe(false);
  });

  it('a service held down (fault kill --hold) is only dropped from the record: down starts nothing again', async () => {
    const dir = runDirAt(mkdtempSync(join(base, 'run-')));
    writeState(dir, currentState());
    writeFileSync(
      dir.faults,
      JSON.stringify([
        { kind: 'hold', service: 'product' },
        { kind: 'link-down', ns: 'product-service' },
      ]),
    );
    const progress: string[] = [];
    await cleanup(dir, (s) => progress.push(s), topology);
    const commands = vi.mocked(priv).mock.calls.map(([argv]) => argv.join(' '));
    expect(commands[0]).toBe('ip link set veth-product-br up');
    expect(progress).toContain('clear faults: kill --hold product, link-down product-service');
    expect(existsSync(dir.faults)).toBe(false);
  });
});
