import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { procStartTime } from '../../src/host/proc.ts';
import { type RunDir, runDirAt } from '../../src/host/run-dir.ts';
import { writeState, type State } from '../../src/host/state.ts';
import { killService, readFaults } from '../../src/runtime/faults.ts';
import { writeSupervision } from '../../src/runtime/supervisor.ts';
import { DEFAULT_POLICY } from '../../src/runtime/restart-policy.ts';

/** Issue 11: `fault kill --hold` records the hold before the kill, and takes it back when the kill fails. */

// Nothing here reaches the host: the kill is a spy, and this test process stands in for the service and the supervisor.
vi.mock('../../src/host/exec.ts', async (actual) => ({
  ...(await actual<typeof import('../../src/host/exec.ts')>()),
  priv: vi.fn(),
}));
vi.mock('../../src/host/links.ts', () => ({ nsPids: vi.fn(async () => []) }));

const base = mkdtempSync(join(tmpdir(), 'ecomnet-hold-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const me = { pid: process.pid, startTime: procStartTime(process.pid)! };

function platform(supervised: 'running' | 'held'): RunDir {
  const dir = runDirAt(mkdtempSync(join(base, 'run-')));
  const state: State = {
    version: 1,
    tag: topology.tag,
    startedAt: '2025-01-01T00:00:00.000Z',
    phase: 'up',
    namespaces: [],
    bridges: [],
    veths: [],
    sysctls: [],
    services: [{ name: 'product', ns: 'product-service', ...me, log: '' }],
    containers: [],
    options: { data: 'native', networkOnly: false, guard: false },
    supervisor: me,
  };
  writeState(dir, state);
  mkdirSync(dir.logs);
  writeSupervision(dir, { pid: me.pid, policy: DEFAULT_POLICY, services: { product: { state: supervised, restarts: 0, restartedAt: [] } } });
  return dir;
}

// Braces: a function beforeEach returns is run as its teardown (mockReset returns the mock).
beforeEach(() => {
  vi.mocked(priv).mockReset();
});

describe('killService with hold', () => {
  it('writes the hold before the kill, and keeps it', async () => {
    const dir = platform('held');
    let recordedAtKill: unknown;
    vi.mocked(priv).mockImplementation(async (argv) => {
      recordedAtKill = JSON.parse(readFileSync(dir.faults, 'utf8'));
      return { command: argv.join(' '), stdout: '', stderr: '', exitCode: 0, durationMs: 0 };
    });
    expect(await killService(dir, topology, 'product', { hold: true })).toEqual([process.pid]);
    expect(vi.mocked(priv).mock.calls.map(([argv]) => argv)).toEqual([['kill', '-KILL', String(process.pid)]]);
    expect(recordedAtKill).toEqual([{ kind: 'hold', service: 'product' }]);
    expect(readFaults(dir, topology)).toEqual([{ kind: 'hold', service: 'product' }]);
  });

  it('a kill that fails takes the hold back out of the record', async () => {
    const dir = platform('running');
    vi.mocked(priv).mockRejectedValue(new Error('kill: (4242) - Operation not permitted'));
    await expect(killService(dir, topology, 'product', { hold: true })).rejects.toThrow(/Operation not permitted/);
    expect(existsSync(dir.faults)).toBe(false);
  });

  it('a service held already is refused, with what brings it back', async () => {
    const dir = platform('held');
    vi.mocked(priv).mockResolvedValue({ command: '', stdout: '', stderr: '', exitCode: 0, durationMs: 0 });
    await killService(dir, topology, 'product', { hold: true });
    vi.mocked(priv).mockClear();
    await expect(killService(dir, topology, 'product', { hold: true })).rejects.toThrow('product is held down (kill --hold product); `ecomnet fault clear` brings it back');
    await expect(killService(dir, topology, 'product')).rejects.toThrow(/product is held down/);
    expect(priv).not.toHaveBeenCalled();
  });
});
