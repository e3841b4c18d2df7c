/**
 * `node ci/host-state.ts save FILE` records what the host holds; `node ci/host-state.ts compare
 * FILE` prints what differs now and exits 1 if anything does. It knows nothing of ecomnet's
 * names, tags or state file: a run that leaves anything at all behind is caught.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { run } from '../src/host/exec.ts';
import { detectBackend } from '../src/host/iptables.ts';
import { diffSnapshots, listDiff, snapshotHost, type HostSnapshot } from '../src/host/snapshot.ts';
import { engine, engineReachable } from '../src/runtime/engine.ts';

/** The host-wide switches a network lab turns. */
const sysctls = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.route_localnet', 'net.bridge.bridge-nf-call-iptables'];

export interface HostState extends HostSnapshot {
  /** Every container, running or not (none when no engine answers). */
  containers: string[];
  /** TCP listeners on the host's own addresses (not loopback: see `loopback`). */
  listeners: string[];
}

/**
 * Loopback listeners come and go with whatever else runs (the unit suites' throwaway servers,
 * in parallel with a run of ours); what a platform could leave listening is on a host address.
 */
const loopback = (address: string) => address.startsWith('127.') || address.startsWith('[::1]') || address.startsWith('[::ffff:127.');

export async function hostState(): Promise<HostState> {
  const snapshot = await snapshotHost(await detectBackend(), sysctls);
  const containers = (await engineReachable()) ? (await (await engine()).listContainers({ all: true })).map((c) => c.Id).sort() : [];
  const ss = await run(['ss', '-Hltn'], { allowFail: true });
  const listeners =
    ss.exitCode === 0
      ? ss.stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => l.split(/\s+/).slice(-2, -1)[0]!)
          .filter((a) => !loopback(a))
          .sort()
      : [];
  return { ...snapshot, containers, listeners };
}

export function diffStates(before: HostState, after: HostState): string[] {
  return [...diffSnapshots(before, after), ...listDiff('container', before.containers, after.containers), ...listDiff('tcp listener', before.listeners, after.listeners)];
}

if (import.meta.main) {
  const [verb, file] = process.argv.slice(2);
  if ((verb !== 'save' && verb !== 'compare') || !file) {
    console.error('usage: node ci/host-state.ts save|compare FILE');
    process.exit(2);
  }
  const now = await hostState();
  if (verb === 'save') writeFileSync(file, JSON.stringify(now));
  else {
    const diff = diffStates(JSON.parse(readFileSync(file, 'utf8')) as HostState, now);
    for (const d of diff) console.log(`left on the host: ${d}`);
    process.exitCode = diff.length ? 1 : 0;
  }
}
