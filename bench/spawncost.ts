import { run } from '../src/host/exec.ts';
import { timeIt } from './stats.ts';

/**
 * What starting one process costs on this host, from Node (how the platform runs every command)
 * and from a shell (how the seed's script does). Explains most of sections 1 and 2.
 */

const N = 30;

export interface SpawnCost {
  nodeMs: number;
  shMs: number;
}

const shLoop = (n: number) => ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`];

export async function spawnCost(): Promise<SpawnCost> {
  const node = await timeIt(async () => {
    for (let i = 0; i < N; i++) await run(['/bin/true']);
  });
  // Two loops, so the one spawn of sh itself cancels out.
  const one = await timeIt(() => run(shLoop(1)));
  const many = await timeIt(() => run(shLoop(N + 1)));
  return { nodeMs: node / N, shMs: (many - one) / N };
}
