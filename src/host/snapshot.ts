import { parseIptablesSave, type SavedTable } from '../net/iptables-save.ts';
import { readSysctl } from './facts.ts';
import { save, type Backend } from './iptables.ts';
import { listLinks, listNamespaces } from './links.ts';

/** What the host looked like: compared before `up` and after `down` to prove nothing of ours stayed. */
export interface HostSnapshot {
  namespaces: string[];
  links: string[];
  /** iptables-save without counters and comments lines, so only rules count. */
  rules: string[];
  sysctl: Record<string, string | null>;
}

/**
 * The rule lines of a dump, without counters, and without tables that hold nothing: a table with
 * only its built-in chains at ACCEPT and no rule is what a host without it does (the first iptables
 * command on a fresh machine creates it), so it is no difference.
 */
export function ruleLines(saved: string): string[] {
  const empty = (t: SavedTable) => !t.rules.length && t.chains.every((c) => c.policy === 'ACCEPT');
  return parseIptablesSave(saved)
    .filter((t) => !empty(t))
    .flatMap((t) => [`*${t.name}`, ...t.chains.map((c) => `:${c.name} ${c.policy}`), ...t.rules.map((r) => r.line)])
    .sort();
}

export async function snapshotHost(backend: Backend, sysctlKeys: string[]): Promise<HostSnapshot> {
  const [namespaces, links, saved] = await Promise.all([listNamespaces(), listLinks(), save(backend)]);
  return {
    namespaces: namespaces.sort(),
    links: links.sort(),
    rules: ruleLines(saved),
    sysctl: Object.fromEntries(sysctlKeys.map((k) => [k, readSysctl(k)])),
  };
}

/** What one list gained (`WHAT added: x`), then what it lost (`WHAT removed: x`). */
export function listDiff(what: string, before: string[], after: string[]): string[] {
  return [...after.filter((v) => !before.includes(v)).map((x) => `${what} added: ${x}`), ...before.filter((v) => !after.includes(v)).map((x) => `${what} removed: ${x}`)];
}

/** Human-readable differences; empty when the host is as it was. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  const out = [...listDiff('namespace', before.namespaces, after.namespaces), ...listDiff('link', before.links, after.links), ...listDiff('iptables', before.rules, after.rules)];
  for (const k of Object.keys(before.sysctl)) if (before.sysctl[k] !== after.sysctl[k]) out.push(`sysctl ${k}: ${before.sysctl[k]} -> ${after.sysctl[k]}`);
  return out;
}
