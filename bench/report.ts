import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from '../src/util/text.ts';

/** One table, printed to the terminal and written to reports/bench.md from the same rows. */
export interface Table {
  title: string;
  /** rows[0] is the header. */
  rows: string[][];
  notes?: string[];
}

export function toText(tables: Table[]): string {
  return tables.map((t) => [`== ${t.title}`, table(t.rows), ...(t.notes ?? []).map((n) => `  ${n}`)].join('\n')).join('\n\n');
}

const mdRow = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;

export function toMarkdown(tables: Table[], preamble: string[]): string {
  const body = tables.map((t) =>
    [`## ${t.title}`, '', mdRow(t.rows[0]!), mdRow(t.rows[0]!.map(() => '---')), ...t.rows.slice(1).map(mdRow), ...(t.notes?.length ? ['', ...t.notes.map((n) => `- ${n}`)] : [])].join('\n'),
  );
  return `# ecomnet benchmark\n\n${preamble.join('\n')}\n\n${body.join('\n\n')}\n`;
}

const reportsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'reports');

export function writeReports(json: unknown, markdown: string): string[] {
  mkdirSync(reportsDir, { recursive: true });
  const files = [join(reportsDir, 'bench.json'), join(reportsDir, 'bench.md')];
  writeFileSync(files[0]!, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(files[1]!, markdown);
  return files;
}
