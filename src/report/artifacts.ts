/** Reads what the suites left in reports/.evidence; anything absent or unreadable is undefined. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportPaths } from './paths.ts';
import type { EvidenceRecord, Matrix, PolicyTable, RuleDoc, RunMeta, TrafficCapture } from './types.ts';
import { readJson } from '../util/read-json.ts';

/** All evidence lines of all workers, oldest first; a torn last line is skipped. */
export function readEvidence(dir: string): EvidenceRecord[] {
  if (!existsSync(dir)) return [];
  const records: EvidenceRecord[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as EvidenceRecord);
      } catch {
        // A worker killed mid-write leaves a partial line; the rest is still evidence.
      }
    }
  }
  return records.sort((a, b) => a.at.localeCompare(b.at));
}

export function readArtifacts(paths: ReportPaths): { matrix?: Matrix; policy?: PolicyTable; rules?: RuleDoc[]; traffic?: TrafficCapture; meta?: RunMeta } {
  const matrix = readJson<Matrix>(paths.matrix);
  const policy = readJson<PolicyTable>(paths.policy);
  const traffic = readJson<TrafficCapture>(paths.traffic);
  const rules = readJson<RuleDoc[]>(paths.rules);
  return {
    matrix: matrix && Array.isArray(matrix.nodes) && Array.isArray(matrix.cells) ? matrix : undefined,
    ...(policy && Array.isArray(policy.sources) && Array.isArray(policy.cells) ? { policy } : {}),
    ...(traffic && Array.isArray(traffic.rows) && Array.isArray(traffic.series?.lines) ? { traffic } : {}),
    rules: Array.isArray(rules) ? rules : undefined,
    meta: readJson<RunMeta>(paths.meta),
  };
}
