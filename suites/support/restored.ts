/** A host as `iptables-restore --noflush` of `text` leaves it: chains declared, -A appended, -I put first (for the walker, in unit tests). */
export function restored(host: string, text: string): string {
  const tables = new Map<string, { chains: string[]; rules: string[] }>();
  let cur = { chains: [] as string[], rules: [] as string[] };
  for (const line of [...host.split('\n'), ...text.split('\n')]) {
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (!tables.has(name)) tables.set(name, { chains: [], rules: [] });
      cur = tables.get(name)!;
    } else if (line.startsWith(':')) cur.chains.push(line);
    else if (line.startsWith('-A ')) cur.rules.push(line);
    else if (line.startsWith('-I ')) cur.rules.unshift(`-A ${line.slice(3)}`);
  }
  return [...tables].map(([name, t]) => [`*${name}`, ...t.chains, ...t.rules, 'COMMIT'].join('\n')).join('\n');
}
