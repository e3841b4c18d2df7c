/** `ecomnet diagram [--svg FILE]`: Mermaid on stdout, or the report's SVG written to FILE. */
import { writeFileSync } from 'node:fs';
import { topology } from '../../fixtures/topology.ts';
import { diagramMermaid, diagramSvg } from '../report/diagram.ts';

const usage = 'usage: ecomnet diagram [--svg FILE]';

/** Returns the exit code; prints to stdout/stderr like any CLI command. */
export function runDiagram(args: string[]): number {
  if (args.length === 0) {
    process.stdout.write(diagramMermaid(topology));
    return 0;
  }
  const [flag, file, ...rest] = args;
  if (flag !== '--svg' || !file || rest.length) {
    console.error(usage);
    return 2;
  }
  writeFileSync(file, `${diagramSvg(topology)}\n`);
  console.error(`diagram: wrote ${file}`);
  return 0;
}
