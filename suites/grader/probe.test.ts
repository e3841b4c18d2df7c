/**
 * The probe verify adds on a real host (an outside client and internet on an uplink of its own)
 * is recorded, root's, in the grader's own directory before it is added: a verify killed with
 * SIGKILL leaves it, and `ecomnet down` or the next verify removes it. Runs in the grader project,
 * on a host ecomnet's platform has left.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { attachProbe, PROBE_DIR } from '../../src/grader/probe.ts';
import { OUTSIDE } from '../../src/topology/outside.ts';
import { listLinks, listNamespaces, nsPids } from '../../src/host/links.ts';
import { waitFor } from '../../src/util/wait.ts';
import { ecomnet } from '../support/cli.ts';
import { stopEcomnetPlatform } from './host.ts';

const root = join(import.meta.dirname, '..', '..');
const record = join(PROBE_DIR, 'probe.json');
const outsideNs = topology.outside.nodes.map((n) => n.name);

/** The probe's namespaces and bridge that are on the host now. */
async function probeOnHost(): Promise<string[]> {
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  return [...outsideNs.filter((n) => ns.includes(n)), ...(links.includes(topology.outside.bridge.name) ? [topology.outside.bridge.name] : [])];
}

/** A verify, killed with SIGKILL (its whole process group: the CLI and its Vitest) once its probe is up. */
async function killedVerify(): Promise<void> {
  const reports = mkdtempSync(join(tmpdir(), 'ecomnet-killed-'));
  onTestFinished(() => rmSync(reports, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(root, 'bin', 'ecomnet.js'), 'verify', '--reports', reports], {
    cwd: root,
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  await waitFor(
    async () => {
      if ((await probeOnHost()).length < outsideNs.length + 1) throw new Error('the probe is not up yet');
    },
    { what: "verify's probe", timeoutMs: 30_000 },
  );
  process.kill(-child.pid!, 'SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe("verify's probe after a kill -9", () => {
  beforeAll(stopEcomnetPlatform);

  it('is recorded and left on the host, and `ecomnet down` removes it', async () => {
    expect(await probeOnHost()).toEqual([]);
    await killedVerify();
    expect(existsSync(record)).toBe(true);
    expect((await probeOnHost()).sort()).toEqual([...outsideNs, topology.outside.bridge.name].sort());
    const down = await ecomnet(['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await probeOnHost()).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });

  it('is removed by the next verify before it adds its own, which it removes when done', async () => {
    await killedVerify();
    const probe = await attachProbe();
    expect(probe.added).toBe(true);
    expect((await probeOnHost()).length).toBe(outsideNs.length + 1);
    await probe.release();
    expect(await probeOnHost()).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });
});

// After the describe above, which has stopped ecomnet's platform (its outside segment would be used as it is).
describe("verify's simulated internet host", () => {
  it('runs as nobody, not root (it is the outside world, answering anyone), and answers', async () => {
    const probe = await attachProbe();
    onTestFinished(() => probe.release());
    expect(probe.added).toBe(true);
    const pids = await nsPids([OUTSIDE.internet.ns]);
    expect(pids.length).toBeGreaterThan(0);
    // Real, effective, saved and filesystem uids alike, of nginx's master and its workers.
    const uids = pids.flatMap((p) =>
      readFileSync(`/proc/${p}/status`, 'utf8')
        .match(/^Uid:\s+(.*)$/m)![1]!
        .trim()
        .split(/\s+/)
        .map(Number),
    );
    expect(uids.length).toBeGreaterThan(0);
    expect(uids).not.toContain(0);
  });
});
