import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openForAppend, openForWrite, writeNewFile } from '../../src/host/files.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { writeState } from '../../src/host/state.ts';
import { newSecrets, writeSecrets } from '../../src/runtime/secrets.ts';
import { PID_FILE_SHELL } from '../../src/runtime/spawn.ts';

const base = mkdtempSync(join(tmpdir(), 'ecomnet-nofollow-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A file someone wants root to overwrite, and a link to it planted where root is about to write. */
const victim = join(base, 'victim');
const plant = (at: string) => {
  rmSync(at, { force: true });
  symlinkSync(victim, at);
};
beforeEach(() => writeFileSync(victim, 'precious\n'));

describe('files written as root never follow a symbolic link planted at their name', () => {
  it('writeNewFile replaces the link by a file of its own, with its mode', () => {
    const at = join(base, 'conf');
    plant(at);
    writeNewFile(at, 'ours\n', 0o600);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(at).isFile()).toBe(true);
    expect(lstatSync(at).mode & 0o777).toBe(0o600);
    expect(readFileSync(at, 'utf8')).toBe('ours\n');
  });

  it("the run's secrets and state file (through a link at secrets.json and at the state's temporary name)", () => {
    const dir = runDirAt(mkdtempSync(join(base, 'run-')));
    plant(dir.secrets);
    plant(`${dir.state}.${process.pid}.tmp`);
    writeSecrets(dir, newSecrets());
    writeState(dir, { phase: 'up' } as Parameters<typeof writeState>[1]);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(dir.secrets).isFile()).toBe(true);
    expect(lstatSync(dir.secrets).mode & 0o777).toBe(0o600);
    expect(lstatSync(dir.state).isFile()).toBe(true);
  });

  it('a log or report opened for appending or writing is refused (ELOOP), not followed', () => {
    const at = join(base, 'service.log');
    plant(at);
    expect(() => openForAppend(at)).toThrow(/ELOOP/);
    expect(() => openForWrite(at)).toThrow(/ELOOP/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it("the pid file's shell (spawnInNs's) does not write through a link", () => {
    const at = join(base, 'svc.pid');
    plant(at);
    const r = spawnSync('sh', ['-c', PID_FILE_SHELL, at, 'true'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});
