/** Issue 22: the simulated internet host is one nginx process as nobody, not a Node process of its own. */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { nodeOf, topology } from '../../src/topology/default.ts';
import { dropTo } from '../../src/runtime/account.ts';
import { nobody } from '../../src/host/accounts.ts';
import { internetHostConf } from '../../src/runtime/nginx.ts';
import { waitFor } from '../../src/util/wait.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('the simulated internet host', () => {
  it.skipIf(process.geteuid?.() !== 0)('answers every request with the address it came from, as one process running as nobody', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-internet-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    // Its own directory, for its pid and temp files.
    const own = join(dir, 'nobody');
    const a = nobody();
    mkdirSync(own, { mode: 0o700 });
    chownSync(own, a.uid, a.gid);
    const port = await freePort();
    const t = structuredClone(topology);
    Object.assign(nodeOf('internet', t), { ip: '127.0.0.1', port });
    const conf = join(dir, 'internet.conf');
    writeFileSync(conf, internetHostConf(t, own), { mode: 0o644 });
    const server = spawn(dropTo(a)[0]!, [...dropTo(a).slice(1), 'nginx', '-e', 'stderr', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    onTestFinished(() => void server.kill('SIGKILL'));
    const res = await waitFor(() => fetch(`http://127.0.0.1:${port}/anything`, { method: 'POST', body: 'x' }), { what: `the internet host (${stderr})`, timeoutMs: 5000 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('127.0.0.1\n');
    // One process (no master and workers), as nobody.
    const ps = await new Promise<string>((r) => {
      const c = spawn('ps', ['-o', 'user=,comm=', '--ppid', String(server.pid), '--pid', String(server.pid)]);
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', () => r(out));
    });
    expect(
      ps
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)),
    ).toEqual([['nobody', 'nginx']]);
  });
});
