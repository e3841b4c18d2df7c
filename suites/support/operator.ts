import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunDir } from '../../src/host/run-dir.ts';
import { readSecrets } from '../../src/runtime/secrets.ts';

export interface OperatorHeader {
  /** curl's arguments sending `Authorization: Bearer <the run's operator token>`. */
  curlArgs: string;
  remove(): void;
}

/**
 * The operator's credential for curl, read from the run's secrets: in a 0600 file curl reads
 * (`-H @FILE`), so no command line shows it (`ps`, the secret sampler of the test run).
 */
export function operatorHeader(dir: RunDir): OperatorHeader {
  const token = readSecrets(dir)?.operator;
  if (!token) throw new Error(`no operator token in ${dir.secrets}: is the platform up?`);
  const home = mkdtempSync(join(tmpdir(), 'ecomnet-operator-'));
  const file = join(home, 'authorization');
  writeFileSync(file, `Authorization: Bearer ${token}\n`, { mode: 0o600, flag: 'wx' });
  return { curlArgs: `-H @${file}`, remove: () => rmSync(home, { recursive: true, force: true }) };
}
