import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { parseIptablesSave, type SavedTable } from '../net/iptables-save.ts';
import { HOOKS, ownedChain } from '../topology/validate.ts';
import { priv, run } from './exec.ts';

/** The iptables flavour this host uses: the one that already holds rules (Docker's), else the default. */
export interface Backend {
  save: string;
  restore: string;
  iptables: string;
  name: string;
}

function variant(suffix: string): Backend {
  return { save: `iptables${suffix}-save`, restore: `iptables${suffix}-restore`, iptables: `iptables${suffix}`, name: suffix ? suffix.slice(1) : 'default' };
}

function countRules(save: string): number {
  return parseIptablesSave(save).reduce((n, t) => n + t.rules.length, 0);
}

let cached: Backend | undefined;

export async function detectBackend(): Promise<Backend> {
  if (cached) return cached;
  const def = variant('');
  const legacy = variant('-legacy');
  const hasLegacy = ['/usr/sbin/iptables-legacy', '/sbin/iptables-legacy'].some(existsSync);
  // The kernel lists legacy tables only once something created them; most hosts never do.
  if (hasLegacy && legacyTablesLoaded()) {
    // A host whose rules live in legacy tables (older Docker) must get ours there too. Empty
    // legacy tables (something merely listed them once) settle it without reading the default.
    if (countRules(await save(legacy)) > 0 && countRules(await save(def)) === 0) return (cached = { ...legacy, name: 'legacy' });
  }
  return (cached = { ...def, name: multiCallName() ?? backendOf((await run([def.iptables, '--version'], { allowFail: true })).stdout) });
}

/**
 * iptables is a link to xtables-nft-multi or xtables-legacy-multi (Debian, Ubuntu): its target
 * names the backend without starting a process. Undefined elsewhere, where `--version` tells.
 */
function multiCallName(): string | undefined {
  for (const dir of ['/usr/sbin', '/sbin']) {
    try {
      const target = realpathSync(`${dir}/iptables`);
      if (target.endsWith('xtables-nft-multi')) return 'nf_tables';
      if (target.endsWith('xtables-legacy-multi')) return 'legacy';
    } catch {
      // not there: the next place, or --version
    }
  }
  return undefined;
}

/** The backend is what `iptables --version` prints in parentheses: nf_tables or legacy. */
export function backendOf(versionLine: string): string {
  return /\(([^)]+)\)/.exec(versionLine)?.[1] ?? 'unknown';
}

function legacyTablesLoaded(): boolean {
  try {
    return readFileSync('/proc/net/ip_tables_names', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

export async function save(b: Backend, table?: string): Promise<string> {
  const r = await priv([b.save, ...(table ? ['-t', table] : [])], { allowFail: true });
  return r.stdout;
}

export async function restore(b: Backend, text: string): Promise<void> {
  await priv([b.restore, '--noflush'], { input: text });
}

/**
 * Each namespace's sysctls, then iptables-restore inside it, all in one privileged shell (a process per namespace
 * costs far more from Node than from sh); a failure names its namespace.
 */
export async function nsRestores(b: Backend, inputs: { ns: string; restore: string; sysctls: { key: string; value: string }[] }[]): Promise<void> {
  const sysctl = (i: (typeof inputs)[number]) => (i.sysctls.length ? `ip netns exec ${i.ns} sysctl -q -w ${i.sysctls.map((s) => `${s.key}=${s.value}`).join(' ')}\n` : '');
  const script = inputs.map((i) => `echo "@ns ${i.ns}" >&2\n${sysctl(i)}ip netns exec ${i.ns} ${b.restore} --noflush <<'ECOMNET_EOF'\n${i.restore}ECOMNET_EOF`).join('\n');
  const r = await priv(['sh', '-e', '-c', script], { allowFail: true });
  if (r.exitCode === 0) return;
  const ns = [...r.stderr.matchAll(/^@ns (\S+)$/gm)].at(-1)?.[1];
  throw new Error(`iptables in namespace ${ns}: ${r.stderr.replace(/^@ns .*\n/gm, '').trim()}`);
}

/** `iptables-save -t filter` inside each namespace, in one privileged shell, by namespace. */
export async function nsSaves(b: Backend, namespaces: string[]): Promise<Map<string, string>> {
  if (!namespaces.length) return new Map();
  const r = await priv(['sh', '-c', `for n; do echo "@ns $n"; ip netns exec "$n" ${b.save} -t filter; done`, 'sh', ...namespaces], { allowFail: true });
  const out = new Map<string, string>();
  for (const part of r.stdout.split(/^@ns /m).slice(1)) out.set(part.slice(0, part.indexOf('\n')), part.slice(part.indexOf('\n') + 1));
  return out;
}

export async function chainExists(b: Backend, table: string, chain: string): Promise<boolean> {
  const r = await priv([b.iptables, '-t', table, '-S', chain], { allowFail: true });
  return r.exitCode === 0;
}

/** A saved line carrying our tag: a rule in a chain of ours, a jump into one, or a rule an older version put straight into a built-in chain. */
export interface TaggedLine {
  table: string;
  chain: string;
  /** The comment after `<tag>:`. */
  id: string;
  line: string;
}

/** `iptables-save` output, or its tables parsed once for several questions. */
type Saved = string | SavedTable[];
const tablesOf = (saved: Saved) => (typeof saved === 'string' ? parseIptablesSave(saved) : saved);

/** Lines of `iptables-save` output whose comment starts with our tag, in order. */
export function taggedLines(saved: Saved, tag: string): TaggedLine[] {
  // A literal prefix: a tag read from a file matches itself only, never every comment on the host.
  const prefix = `${tag}:`;
  return tablesOf(saved).flatMap((t) => t.rules.flatMap((r) => (r.comment?.startsWith(prefix) ? [{ table: t.name, chain: r.chain, id: r.comment.slice(prefix.length), line: r.line }] : [])));
}

/** Chains of ours (named from the tag) in `iptables-save` output, with their tables. */
export function liveChains(saved: Saved, tag: string): { table: string; chain: string }[] {
  const names = new Set(HOOKS.map((h) => ownedChain(tag, h)));
  return tablesOf(saved).flatMap((t) => t.chains.filter((c) => names.has(c.name)).map((c) => ({ table: t.name, chain: c.name })));
}

/** Everything of ours in `iptables-save` output, one string each: our chains, then every tagged line. */
export function ownedLines(saveOutput: string, tag: string): string[] {
  const tables = parseIptablesSave(saveOutput);
  return [...liveChains(tables, tag).map((c) => `${c.table} chain ${c.chain}`), ...taggedLines(tables, tag).map((l) => l.line)];
}

/**
 * Restore text removing everything of ours, table by table: the tagged lines outside our
 * chains (the jumps, and rules a version without chains put into built-in ones), then our
 * chains, flushed and deleted. An untagged line outside our chains is never touched.
 */
export function deletionText(saveOutput: string, tag: string): string {
  const tables = parseIptablesSave(saveOutput);
  const chains = liveChains(tables, tag);
  const inOurs = (l: TaggedLine) => chains.some((c) => c.table === l.table && c.chain === l.chain);
  const lines = taggedLines(tables, tag).filter((l) => !inOurs(l));
  const out: string[] = [];
  for (const table of new Set([...lines.map((l) => l.table), ...chains.map((c) => c.table)])) {
    out.push(`*${table}`, ...lines.filter((l) => l.table === table).map((l) => `-D ${l.line.slice(3)}`));
    for (const c of chains.filter((x) => x.table === table)) out.push(`-F ${c.chain}`, `-X ${c.chain}`);
    out.push('COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Remove our jumps, chains and tagged rules (see deletionText), in one restore. */
export async function removeOwned(b: Backend, tag: string): Promise<void> {
  const text = deletionText(await save(b), tag);
  if (text) await restore(b, text);
}
