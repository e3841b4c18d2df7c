/**
 * What verify adds to reach a build it did not make, as a person's screenshots do: an external
 * client and a simulated internet host on an uplink bridge of our own (the topology's outside
 * segment, documentation addresses). Recorded before it is added, so `ecomnet down` or the next
 * verify removes one left by a verify that was killed.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeOf, topology as defaultTopology } from '../../fixtures/topology.ts';
import { removeProbe, type ProbeRecord } from '../cleanup.ts';
import { ipBatch, listLinks, listNamespaces, nsBatches } from '../host/links.ts';
import { writeNewFile } from '../host/files.ts';
import type { Progress } from '../host/network.ts';
import { ensureRunDir, type RunDir } from '../host/run-dir.ts';
import { buildProbePlan } from '../plan/plan.ts';
import { spawnInNs } from '../runtime/spawn.ts';
import type { Topology } from '../topology/types.ts';
import { waitFor } from '../wait.ts';

const internetHost = fileURLToPath(new URL('../runtime/internet-host.ts', import.meta.url));

export interface Probe {
  /** False when the platform on the host has its own outside segment (ecomnet's), used as it is. */
  added: boolean;
  release(): Promise<void>;
}

export async function attachProbe(dir: RunDir, progress: Progress, t: Topology = defaultTopology): Promise<Probe> {
  await ensureRunDir(dir);
  await removeProbe(dir, progress, t);
  const plan = buildProbePlan(t);
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const present = [...plan.namespaces.filter((n) => ns.includes(n)), ...plan.bridges.filter((b) => links.includes(b))];
  if (present.length === plan.namespaces.length + plan.bridges.length) return { added: false, release: async () => {} };
  if (present.length) throw new Error(`verify: ${present.join(', ')} exist but not the whole outside segment; not ours to change (\`ecomnet down\` removes ecomnet's)`);
  const record: ProbeRecord = { namespaces: plan.namespaces, bridges: plan.bridges, veths: plan.veths };
  writeNewFile(dir.probe, `${JSON.stringify(record)}\n`);
  mkdirSync(dir.logs, { recursive: true });
  const t0 = performance.now();
  try {
    await ipBatch(plan.hostBatch, { what: 'probe host batch' });
    await nsBatches(plan.nsBatches);
    const inet = nodeOf('internet', t);
    await spawnInNs(inet.name, [process.execPath, internetHost, inet.ip, String(inet.port)], dir.log('probe-internet'), dir.pidFile('probe-internet'));
    await waitFor(() => fetch(`http://${inet.ip}:${inet.port}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.text()), { what: 'the simulated internet host', timeoutMs: 10_000 });
  } catch (e) {
    await removeProbe(dir, progress, t);
    throw e;
  }
  progress(`probe: ${plan.namespaces.join(', ')} on ${plan.bridges.join(', ')}`, performance.now() - t0);
  return { added: true, release: () => removeProbe(dir, progress, t).then(() => undefined) };
}
