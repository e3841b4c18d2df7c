/**
 * `ecomnet up --topology two-hosts --virtual-hosts` as a person runs it: it serves the shop on host
 * A's port 8080 (what A's external client gets is printed), names each host's PID 1, and Ctrl-C
 * ends both hosts and everything in them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { products } from '../../src/grader/contract.ts';
import { alive } from '../../src/host/proc.ts';
import { check, waitFor } from '../../src/util/wait.ts';

const root = join(import.meta.dirname, '..', '..');

describe('ecomnet up --topology two-hosts --virtual-hosts', () => {
  it('serves the seed products to host A’s external client, and Ctrl-C removes both hosts', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'ecomnet.js'), 'up', '--topology', 'two-hosts', '--virtual-hosts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    let ended = false;
    void exited.then(() => (ended = true));
    await waitFor(
      () => {
        if (ended) return;
        check(out.includes('Ctrl-C stops both hosts'), `not serving yet:\n${out}`);
      },
      { what: 'both hosts up', timeoutMs: 90_000, intervalMs: 100 },
    );
    expect(out, 'it ended before serving').toContain('Ctrl-C stops both hosts');
    expect(out).toContain(JSON.stringify(products));
    const pids = [...out.matchAll(/^host-[ab]: sudo nsenter -t (\d+) -a/gm)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(alive(p)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('down: the virtual hosts and all that ran in them are gone');
    for (const p of pids) expect(alive(p), `pid ${p}`).toBe(false);
  }, 120_000);
});
