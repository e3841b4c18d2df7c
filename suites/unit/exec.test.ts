import { describe, expect, it } from 'vitest';
import { run } from '../../src/host/exec.ts';

describe('run', () => {
  it('a command that times out returns at its timeout, even when what it started still holds its output', async () => {
    const t0 = performance.now();
    const r = await run(['bash', '-c', 'sleep 30 & wait'], { allowFail: true, timeoutMs: 300 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('killed by SIGTERM (timeout 300 ms)');
  });
});
