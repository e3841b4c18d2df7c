/** Issue 21, finding 11: the supervisor's log is bounded, rotated as the services' logs are. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LOG_LIMIT } from '../../src/runtime/log-keeper.ts';
import { supervisorLog } from '../../src/runtime/supervisor.ts';

describe("the supervisor's log", () => {
  it('stays under its cap after many events: the newest whole lines kept, older ones rotated away', () => {
    const d = mkdtempSync(join(tmpdir(), 'ecomnet-supervisor-log-'));
    onTestFinished(() => rmSync(d, { recursive: true, force: true }));
    const file = join(d, 'supervisor.log');
    const limit = { maxBytes: 4096, keep: LOG_LIMIT.keep };
    const log = supervisorLog(file, limit);
    for (let i = 0; i < 10_000; i++) log({ service: 'order', event: 'down', n: i });
    const files = [file, ...Array.from({ length: limit.keep }, (_, n) => `${file}.${n + 1}`)];
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(limit.maxBytes);
    expect(existsSync(`${file}.${limit.keep + 1}`)).toBe(false);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ event: 'down', n: 9999 });
  });

  it('is the log the supervisor process writes its events to', () => {
    expect(readFileSync(join(import.meta.dirname, '..', '..', 'src', 'runtime', 'supervise.ts'), 'utf8')).toMatch(/const log = supervisorLog\(dir\.log\('supervisor'\)\)/);
  });
});
