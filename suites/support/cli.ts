import { join } from 'node:path';
import { run } from '../../src/host/exec.ts';
import { recordEvidence } from './evidence.ts';

/** The CLI as a user runs it, in a child process: what a crash test kills and a lifecycle test drives. */
export const cli = join(process.cwd(), 'src/cli/main.ts');

/** `ecomnet ARGS`, recorded as evidence; runDir separates a second platform's state and lock from the main one. */
export async function ecomnet(args: string[], runDir?: string, env: Record<string, string> = {}) {
  const at = new Date().toISOString();
  const vars = { ...(runDir ? { ECOMNET_RUN_DIR: runDir } : {}), ...env };
  const r = await run([process.execPath, cli, ...args], { allowFail: true, timeoutMs: 120_000, env: { ...process.env, ...vars } as Record<string, string> });
  const shown = Object.entries(vars).map(([k, v]) => `${k}=${v} `).join('');
  recordEvidence({ ...r, command: `${shown}ecomnet ${args.join(' ')}`, at });
  return r;
}
