/**
 * The one reader of `iptables-save [-c]` output, legacy's and iptables-nft's alike: tables, their
 * chains with policies and counters, and their rules as argv words with their comments. Its
 * callers keep their own logic over this form: the grader's rule walk (src/grader/netfilter.ts),
 * ecomnet's own lines by their tag (src/host/iptables.ts) and the before/after comparison of the
 * host (src/host/snapshot.ts). Pure, and free of both ecomnet's plan and the grader.
 */

export interface Counters {
  packets: number;
  bytes: number;
}

/** One shell-style word: quotes removed, and whether it was quoted (a quoted `!` or `-x` is a value, never an operator). */
export interface Word {
  text: string;
  quoted: boolean;
}

export interface SavedChain {
  name: string;
  /** ACCEPT, DROP, ... for a built-in chain; '-' for a user chain. */
  policy: string;
  counters?: Counters;
}

export interface SavedLine {
  chain: string;
  /** The words after `-A CHAIN`. */
  args: Word[];
  /** The text of its `--comment`, unquoted. */
  comment?: string;
  counters?: Counters;
  /** The line as saved, without its counters. */
  line: string;
}

export interface SavedTable {
  name: string;
  chains: SavedChain[];
  rules: SavedLine[];
}

/** Space, tab and the line-end characters: what separates words. */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/**
 * Shell-style words: iptables-save quotes comments and strings with "..." and escapes \" and \\.
 * Scanned by character code and sliced, not built a character at a time: a Docker host's dump
 * has thousands of rules, read on every `up` and `down`.
 */
export function words(line: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < line.length) {
    if (isSpace(line.charCodeAt(i))) {
      i++;
      continue;
    }
    let text = '';
    let quoted = false;
    let from = i;
    while (i < line.length && !isSpace(line.charCodeAt(i))) {
      const q = line[i];
      if (q !== '"' && q !== "'") {
        i++;
        continue;
      }
      text += line.slice(from, i);
      quoted = true;
      i++;
      from = i;
      while (i < line.length && line[i] !== q) {
        if (q === '"' && line[i] === '\\' && i + 1 < line.length) {
          text += line.slice(from, i);
          from = ++i;
        }
        i++;
      }
      if (i >= line.length) throw new Error(`unterminated quote in: ${line}`);
      text += line.slice(from, i);
      from = ++i;
    }
    out.push({ text: text + line.slice(from, i), quoted });
  }
  return out;
}

const COUNTERS = /^\[(\d+):(\d+)\]/;

const countersOf = (m: RegExpExecArray | null): Counters | undefined => (m ? { packets: Number(m[1]), bytes: Number(m[2]) } : undefined);

/** One `-A CHAIN ...` line (or `--append`), with or without its `[packets:bytes]` prefix. */
export function parseRuleLine(raw: string): SavedLine {
  let line = raw.trim();
  const c = COUNTERS.exec(line);
  if (c) line = line.slice(c[0].length).trim();
  const counters = countersOf(c);
  const ws = words(line);
  if (ws[0]?.quoted || (ws[0]?.text !== '-A' && ws[0]?.text !== '--append')) throw new Error(`not an appended rule: ${raw}`);
  const chain = ws[1]?.text;
  if (!chain) throw new Error(`no chain in: ${raw}`);
  const args = ws.slice(2);
  const at = args.findIndex((w) => !w.quoted && w.text === '--comment');
  const comment = at >= 0 ? args[at + 1]?.text : undefined;
  return { chain, args, ...(comment === undefined ? {} : { comment }), ...(counters ? { counters } : {}), line };
}

/** Every table of a dump, in order; a rule or chain before any `*table` line falls in a table named ''. */
export function parseIptablesSave(text: string): SavedTable[] {
  const tables: SavedTable[] = [];
  const current = (): SavedTable => {
    if (!tables.length) tables.push({ name: '', chains: [], rules: [] });
    return tables.at(-1)!;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) tables.push({ name: line.slice(1), chains: [], rules: [] });
    else if (line.startsWith(':')) {
      const [name = '', policy = '-', counted = ''] = line.slice(1).split(/\s+/);
      const counters = countersOf(COUNTERS.exec(counted));
      current().chains.push({ name, policy, ...(counters ? { counters } : {}) });
    } else current().rules.push(parseRuleLine(line));
  }
  return tables;
}
