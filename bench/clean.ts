import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { topology } from '../src/topology/default.ts';
import { leftovers } from '../src/cleanup.ts';
import { readSysctl } from '../src/host/facts.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import { LARGEST, syntheticTopology } from './synthetic.ts';
import { BENCH_TMP } from './vhost.ts';

const forwardKey = sysctlKeys(topology).forward;

/** What the bench must put back that no platform records: the host's ip_forward as found. */
export const forwardBefore = (): string | null => readSysctl(forwardKey);

/** Did the bench leave the host as it found it? Anything of the main or the synthetic platforms, ip_forward changed, or a directory of 7d-7e's. */
export async function benchLeftovers(forward: string | null): Promise<string[]> {
  const now = readSysctl(forwardKey);
  const [main, synthetic] = await Promise.all([leftovers(topology), leftovers(syntheticTopology(LARGEST))]);
  const tmp = readdirSync(dirname(BENCH_TMP))
    .filter((f) => f.startsWith(basename(BENCH_TMP)))
    .map((f) => `${dirname(BENCH_TMP)}/${f}`);
  return [...main, ...synthetic, ...(now === forward ? [] : [`sysctl ${forwardKey}: ${forward} -> ${now}`]), ...tmp];
}
