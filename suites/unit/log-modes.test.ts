import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeLogDir, RotatingLog } from '../../src/runtime/log-keeper.ts';

/**
 * The services' logs can hold what only their owner should read (a statement PostgreSQL echoes
 * with its error, client addresses): the directory is its owner's alone (root reads it too, and
 * `ecomnet logs` runs as one of them), and every log file is 0600, a rotated one as well.
 */

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('log modes', () => {
  it('the logs directory is 0700, whatever the umask', () => {
    dir = mkdtempSync(join(tmpdir(), 'ecomnet-log-modes-'));
    const was = process.umask(0o022);
    try {
      makeLogDir(join(dir, 'logs'));
    } finally {
      process.umask(was);
    }
    expect(modeOf(join(dir, 'logs'))).toBe('700');
  });

  it('a log file is 0600, and so is the one a rotation starts', () => {
    dir = mkdtempSync(join(tmpdir(), 'ecomnet-log-modes-'));
    const file = join(dir, 'postgres.log');
    const log = new RotatingLog(file, 100, 1);
    log.write(Buffer.from(`${'x'.repeat(79)}\n`));
    expect(modeOf(file)).toBe('600');
    log.write(Buffer.from(`${'y'.repeat(79)}\n`));
    log.close();
    expect([modeOf(file), modeOf(`${file}.1`)]).toEqual(['600', '600']);
  });
});
