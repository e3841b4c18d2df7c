/**
 * Issue 21, finding 11: the files ecomnet rewrites (faults.json, supervision.json, the topology the
 * supervisor reads, the reports, the run errors) are replaced whole, through replaceFile: a reader
 * (`status`, the supervisor, a browser) sees the old file or the new, never half of one, and a link
 * planted at the name or at its temporary name is replaced, not written through.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { replaceFile } from '../../src/host/files.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { recordFailureOf } from '../../src/report/run-errors.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { writeSupervision } from '../../src/runtime/supervisor.ts';

const root = join(import.meta.dirname, '..', '..');

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'ecomnet-atomic-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Links at `file` and at its temporary name, both to `victim`. */
function plantLinks(file: string, victim: string): void {
  writeFileSync(victim, 'victim\n');
  symlinkSync(victim, file);
  symlinkSync(victim, `${file}.${process.pid}.tmp`);
}

describe('replaceFile', () => {
  it('a reader in another process never sees a partial file while it is replaced again and again', async () => {
    const file = join(scratch(), 'big.json');
    // Two contents of different lengths: a torn read is one that is neither.
    const a = `${'a'.repeat(1 << 20)}\n`;
    const b = `${'b'.repeat(3 << 19)}\n`;
    replaceFile(file, a);
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let reads = 0, torn = 0; process.stdout.write('ready\\n');
         while (!fs.existsSync(process.argv[1] + '.stop')) { const t = fs.readFileSync(process.argv[1], 'utf8'); reads++; if (t.length !== ${a.length} && t.length !== ${b.length}) torn++; }
         process.stdout.write(JSON.stringify({ reads, torn }));`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => void reader.kill());
    let out = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = new Promise((r) => reader.once('close', r));
    await new Promise<void>((r) => reader.stdout.once('data', () => r()));
    for (let i = 0; i < 300; i++) replaceFile(file, i % 2 ? a : b);
    writeFileSync(`${file}.stop`, '');
    await done;
    const seen = JSON.parse(out.replace(/^ready\n/, '')) as { reads: number; torn: number };
    expect(seen.reads).toBeGreaterThan(0);
    expect(seen.torn).toBe(0);
  });

  it('replaces a link planted at the name or the temporary name, never writes through it', () => {
    const d = scratch();
    const file = join(d, 'state.json');
    plantLinks(file, join(d, 'victim'));
    replaceFile(file, 'ours\n');
    expect(readFileSync(join(d, 'victim'), 'utf8')).toBe('victim\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('ours\n');
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });
});

describe('the files ecomnet rewrites go through it', () => {
  it('the supervisor record and the run errors: a planted link is not written through', async () => {
    const d = scratch();
    const dir = runDirAt(join(d, 'run'));
    mkdirSync(join(d, 'run', 'logs'), { recursive: true });
    plantLinks(dir.supervision, join(d, 'victim-supervision'));
    writeSupervision(dir, { pid: 1, startTime: 1, services: {} } as unknown as Parameters<typeof writeSupervision>[1]);
    expect(readFileSync(join(d, 'victim-supervision'), 'utf8')).toBe('victim\n');
    const paths = reportPaths(join(d, 'reports-root'));
    mkdirSync(join(paths.runErrors, '..'), { recursive: true });
    plantLinks(paths.runErrors, join(d, 'victim-errors'));
    await expect(recordFailureOf('a stage', async () => Promise.reject(new Error('boom')), paths)).rejects.toThrow('boom');
    expect(readFileSync(join(d, 'victim-errors'), 'utf8')).toBe('victim\n');
    expect(JSON.parse(readFileSync(paths.runErrors, 'utf8'))).toEqual(['a stage: Error: boom']);
  });

  it('faults.ts, supervisor.ts, reporter.ts and run-errors.ts write no file but by replaceFile', () => {
    for (const f of ['src/runtime/faults.ts', 'src/runtime/supervisor.ts', 'src/report/reporter.ts', 'src/report/run-errors.ts']) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(text, f).not.toMatch(/\bwriteFileSync\b|\bwriteFile\(|\bappendFileSync\b/);
      expect(text, f).toMatch(/\breplaceFile\(/);
    }
  });
});
