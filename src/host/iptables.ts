import { existsSync, readFileSync } from 'node:fs';
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
  return save.split('\n').filter((l) => l.startsWith('-A ')).length;
}

let cached: Backend | undefined;

export async function detectBackend(): Promise<Backend> {
  if (cached) return cached;
  const def = variant('');
  const legacy = variant('-legacy');
  const hasLegacy = ['/usr/sbin/iptables-legacy', '/sbin/iptables-legacy'].some(existsSync);
  // The kernel lists legacy tables only once something created them; most hosts never do.
  if (hasLegacy && legacyTablesLoaded()) {
    const [d, l] = await Promise.all([save(def), save(legacy)]);
    // A host whose rules live in legacy tables (older Docker) must get ours there too.
    if (countRules(l) > 0 && countRules(d) === 0) return (cached = { ...legacy, name: 'legacy' });
  }
  const v = await run([def.iptables, '--version'], { allowFail: true });
  return (cached = { ...def, name: /nf_tables/.test(v.stdout) ? 'nf_tables' : 'legacy' });
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

export async function chainExists(b: Backend, table: string, chain: string): Promise<boolean> {
  const r = await priv([b.iptables, '-t', table, '-S', chain], { allowFail: true });
  return r.exitCode === 0;
}

/** Lines of `iptables-save` output that carry our tag, grouped by table. */
export function taggedLines(saveOutput: string, tag: string): Map<string, string[]> {
  const byTable = new Map<string, string[]>();
  let table = '';
  const marker = new RegExp(`--comment "?${tag}:`);
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('-A ') && marker.test(line)) byTable.set(table, [...(byTable.get(table) ?? []), line]);
  }
  return byTable;
}

/** Restore text deleting exactly the given saved lines (ours, found by tag). */
export function deletionText(tagged: Map<string, string[]>): string {
  const out: string[] = [];
  for (const [table, lines] of tagged) out.push(`*${table}`, ...lines.map((l) => `-D ${l.slice(3)}`), 'COMMIT');
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Remove every rule carrying our tag; rules without it are never touched. Returns how many. */
export async function removeTagged(b: Backend, tag: string): Promise<number> {
  const tagged = taggedLines(await save(b), tag);
  const text = deletionText(tagged);
  if (text) await restore(b, text);
  return [...tagged.values()].reduce((n, l) => n + l.length, 0);
}
