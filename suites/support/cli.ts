import { join } from 'node:path';
import { run } from '../../src/host/exec.ts';
import { detectBackend, save, taggedLines } from '../../src/host/iptables.ts';
import { listLinks, listNamespaces } from '../../src/host/links.ts';
import type { Topology } from '../../src/topology/types.ts';
import { record } from './evidence.ts';

/** The CLI as a user runs it, in a child process: what a crash test kills and a lifecycle test drives. */
export const cli = join(process.cwd(), 'src/cli/main.ts');

/** `ecomnet ARGS`, recorded as evidence; runDir separates a second platform's state and lock from the main one. */
export async function ecomnet(args: string[], runDir?: string, env: Record<string, string> = {}) {
  const at = new Date().toISOString();
  const vars = { ...(runDir ? { ECOMNET_RUN_DIR: runDir } : {}), ...env };
  const r = await run([process.execPath, cli, ...args], { allowFail: true, timeoutMs: 120_000, env: { ...process.env, ...vars } as Record<string, string> });
  const shown = Object.entries(vars).map(([k, v]) => `${k}=${v} `).join('');
  record({ ...r, command: `${shown}ecomnet ${args.join(' ')}`, at });
  return r;
}

/** Namespaces, links and tagged rules of topology `t` still on the host. */
export async function leftovers(t: Topology): Promise<string[]> {
  const b = await detectBackend();
  const [ns, links, saved] = await Promise.all([listNamespaces(), listLinks(), save(b)]);
  const nodes = [...t.app.nodes, ...t.outside.nodes];
  return [
    ...nodes.map((n) => n.name).filter((n) => ns.includes(n)),
    ...[t.app.bridge.name, t.outside.bridge.name, ...nodes.map((n) => `${n.veth}-br`)].filter((l) => links.includes(l)),
    ...[...taggedLines(saved, t.tag).values()].flat(),
  ];
}
