import { readdir } from 'node:fs/promises';
import { check, waitFor } from '../util/wait.ts';
import { priv, run } from './exec.ts';

/** The small iproute2 layer: list, batch, wait. */

/** `ip netns list` reads this directory too; reading it ourselves costs no process. */
export async function listNamespaces(): Promise<string[]> {
  return readdir('/run/netns').catch(() => []);
}

/** The host namespace's links, as sysfs lists them. */
export async function listLinks(): Promise<string[]> {
  return readdir('/sys/class/net');
}

/** Those of `names` whose other end lives in another namespace (a veth pair's host side). */
export async function linkedAcrossNamespaces(names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const r = await run(['ip', '-j', 'link', 'show']);
  const paired = new Set((JSON.parse(r.stdout) as { ifname: string; link_netnsid?: number }[]).filter((l) => l.link_netnsid !== undefined).map((l) => l.ifname));
  return names.filter((n) => paired.has(n));
}

export class BatchError extends Error {
  readonly line?: string;
  constructor(what: string, stderr: string, lines: string[]) {
    const n = Number(/Command failed -:(\d+)/.exec(stderr)?.[1]);
    const line = Number.isInteger(n) ? lines[n - 1] : undefined;
    const reason = stderr.split('\n').find((l) => l.trim() && !l.startsWith('Command failed')) ?? stderr.trim();
    super(`${what}: ${line ? `\`ip ${line}\` failed: ` : ''}${reason.trim()}`);
    this.line = line;
  }
}

/** `ip [-n ns] -batch -`: one process for many commands; stops at the first error, which it names. */
export async function ipBatch(lines: string[], opts: { ns?: string; force?: boolean; what?: string } = {}): Promise<void> {
  if (!lines.length) return;
  const argv = ['ip', ...(opts.ns ? ['-n', opts.ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await priv(argv, { input: `${lines.join('\n')}\n`, allowFail: true });
  if (r.exitCode !== 0 && !opts.force) throw new BatchError(opts.what ?? argv.join(' '), r.stderr, lines);
}

/** Namespace and link deletion finish asynchronously in the kernel; wait until they are really gone. */
export async function waitGone(namespaces: string[], links: string[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => {
      const [ns, ls] = await Promise.all([listNamespaces(), listLinks()]);
      const left = [...namespaces.filter((n) => ns.includes(n)), ...links.filter((l) => ls.includes(l))];
      check(!left.length, `still present: ${left.join(', ')}`);
    },
    { what: 'removal of namespaces and links', timeoutMs, intervalMs: 20 },
  );
}

/** PIDs of processes living in any of the namespaces (`ip netns pids`), in one privileged process. */
export async function nsPids(namespaces: string[]): Promise<number[]> {
  if (!namespaces.length) return [];
  const r = await priv(['sh', '-c', 'for n; do ip netns pids "$n"; done', 'sh', ...namespaces], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Several `ip -n NS -batch` runs in one privileged shell: a process per namespace costs far
 * more from Node than from sh. A failure names its namespace and line, as ipBatch does.
 */
export async function nsBatches(batches: { ns: string; lines: string[] }[]): Promise<void> {
  const script = batches.map((b) => `echo "@ns ${b.ns}" >&2\nip -n ${b.ns} -batch - <<'ECOMNET_EOF'\n${b.lines.join('\n')}\nECOMNET_EOF`).join('\n');
  const r = await priv(['sh', '-e', '-c', script], { allowFail: true });
  if (r.exitCode === 0) return;
  const ns = [...r.stderr.matchAll(/^@ns (\S+)$/gm)].at(-1)?.[1];
  const failed = batches.find((b) => b.ns === ns);
  throw new BatchError(`namespace ${ns}`, r.stderr.replace(/^@ns .*\n/gm, ''), failed?.lines ?? []);
}
