import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetResult } from './net-child.ts';
import { BENCH_RUN_DIR } from './synthetic.ts';

const child = fileURLToPath(new URL('./net-child.ts', import.meta.url));

/** Run net-child.ts with the synthetic platforms' own run dir; its progress goes straight to our stderr. */
function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { env: { ...process.env, ECOMNET_RUN_DIR: BENCH_RUN_DIR }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.once('error', reject);
    p.once('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`bench/net-child.ts ${args.join(' ')} exited ${code ?? signal}`))));
  });
}

/** Sections 1 and 2. The child cleans up in its own `finally`; if it died, a scrub pass does. */
export async function networkBench(): Promise<NetResult> {
  try {
    return JSON.parse(await runChild([])) as NetResult;
  } catch (e) {
    await runChild(['scrub']).catch(() => {});
    throw e;
  }
}
