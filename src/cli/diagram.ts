/**
 * `ecomnet diagram [--live] [--svg FILE]`: Mermaid on stdout, or the report's SVG written to FILE.
 * Without --live it is drawn from the topology; with --live from what this host holds
 * (discover()), red where that differs from the seed's contract.
 */
import { writeFileSync } from 'node:fs';
import { topology } from '../topology/default.ts';
import { diagramMermaid, diagramSvg } from '../report/topology-diagram.ts';

const usage = 'usage: ecomnet diagram [--live] [--svg FILE]';

/** Draws the live host; 1 when it differs from the seed, each difference named on stderr. */
async function runLive(file: string | undefined): Promise<number> {
  const [{ discover }, live] = await Promise.all([import('../grader/discover.ts'), import('../grader/live-diagram.ts')]);
  const model = await discover();
  if (file) writeFileSync(file, `${live.liveDiagramSvg(model)}\n`);
  else process.stdout.write(live.liveDiagramMermaid(model));
  const findings = live.diagramFindings(model);
  if (file) console.error(`diagram: wrote ${file}`);
  console.error(findings.length ? `diagram: ${findings.length} differences from the seed:\n${findings.map((f) => `  ✗ ${f}`).join('\n')}` : 'diagram: the host matches the seed');
  return findings.length ? 1 : 0;
}

/** Returns the exit code (a promise only with --live, which reads the host); prints to stdout/stderr like any CLI command. */
export function runDiagram(args: string[]): number | Promise<number> {
  const live = args.includes('--live');
  const [flag, file, ...rest] = args.filter((a) => a !== '--live');
  if (flag !== undefined && (flag !== '--svg' || !file || rest.length)) {
    console.error(usage);
    return 2;
  }
  if (live) return runLive(file);
  if (!file) {
    process.stdout.write(diagramMermaid(topology));
    return 0;
  }
  writeFileSync(file, `${diagramSvg(topology)}\n`);
  console.error(`diagram: wrote ${file}`);
  return 0;
}
