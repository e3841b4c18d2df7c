import { topology } from '../fixtures/topology.ts';
import { leftovers } from '../src/cleanup.ts';
import { readSysctl } from '../src/host/facts.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import { LARGEST, syntheticTopology } from './synthetic.ts';

const forwardKey = sysctlKeys(topology).forward;

/** What the bench must put back that no platform records: the host's ip_forward as found. */
export const forwardBefore = (): string | null => readSysctl(forwardKey);

/** Did the bench leave the host as it found it? Anything of the main or the synthetic platforms, or ip_forward changed. */
export async function benchLeftovers(forward: string | null): Promise<string[]> {
  const now = readSysctl(forwardKey);
  const [main, synthetic] = await Promise.all([leftovers(topology), leftovers(syntheticTopology(LARGEST))]);
  return [...main, ...synthetic, ...(now === forward ? [] : [`sysctl ${forwardKey}: ${forward} -> ${now}`])];
}
