import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Topology } from '../../src/topology/types.ts';
import { recordEvidence } from './evidence.ts';

/** The CLI as a user runs it, in a child process: what a crash test kills and a lifecycle test drives. */
export const cli = join(process.cwd(), 'src/cli/main.ts');

/** A topology as the data file `--topology` takes (JSON, never a module), in a directory of its own for the caller to remove. */
export function topologyFile(t: Topology): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ecomnet-topology-')), 'topology.json');
  writeFileSync(file, JSON.stringify(t));
  return file;
}

/** `ecomnet ARGS`, recorded as evidence; runDir separates a second platform's state and lock from the main one. */
export async function ecomnet(args: string[], runDir?: string, env: Record<string, string> = {}) {
  const at = new Date().toISOString();
  const vars = { ...(runDir ? { ECOMNET_RUN_DIR: runDir } : {}), ...env };
  const started = performance.now();
  // execa drives the CLI as a user's shell would (the product itself runs its commands with node:child_process).
  const p = await execa(process.execPath, [cli, ...args], { reject: false, timeout: 120_000, env: vars, stripFinalNewline: false });
  const r = { stdout: String(p.stdout), stderr: String(p.stderr) + (p.exitCode === undefined ? String(p.shortMessage) : ''), exitCode: p.exitCode ?? -1, durationMs: performance.now() - started };
  const shown = Object.entries(vars)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  recordEvidence({ ...r, command: `${shown}ecomnet ${args.join(' ')}`, at });
  return r;
}
