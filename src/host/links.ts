import { priv, run } from './exec.ts';

/** The small iproute2 layer: list, batch, wait. */

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', '-j', 'netns', 'list'], { allowFail: true });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

export async function listLinks(): Promise<string[]> {
  const r = await run(['ip', '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [ns, ls] = await Promise.all([listNamespaces(), listLinks()]);
    const left = [...namespaces.filter((n) => ns.includes(n)), ...links.filter((l) => ls.includes(l))];
    if (!left.length) return;
    if (Date.now() > deadline) throw new Error(`still present after ${timeoutMs} ms: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PIDs of processes living in a namespace (`ip netns pids`). */
export async function nsPids(ns: string): Promise<number[]> {
  const r = await priv(['ip', 'netns', 'pids', ns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
