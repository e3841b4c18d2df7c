import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topology as alt } from '../../fixtures/alt-topology.ts';
import { priv } from '../../src/host/exec.ts';
import { leftovers } from '../../src/cleanup.ts';
import { testRunDirs } from '../../src/host/run-dir.ts';
import { cli, ecomnet, topologyFile } from '../support/cli.ts';

const altFile = topologyFile(alt);
const altDir = testRunDirs.foreground;

const upArgs = ['--network-only', '--topology', altFile];
/** The CLI itself, or npm start (npm forwards the signal to its script, which must be the CLI, not a shell). */
const launchers = {
  ecomnet: [process.execPath, cli, 'up', ...upArgs],
  'npm start': ['npm', 'start', '--', ...upArgs],
};

/** `ecomnet up` in the foreground until `signal` reaches the launcher's process; drained output included. */
function foreground(launcher: keyof typeof launchers, signal: NodeJS.Signals): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = launchers[launcher];
    const child = spawn(file!, args, { env: { ...process.env, ECOMNET_RUN_DIR: altDir } });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "Ctrl-C" prompt within 60 s:\n${out}`));
    }, 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ctrl-C stops the platform') && !child.killed) child.kill(signal);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('ecomnet up in the foreground (npm start) stays up until a signal, then removes everything', () => {
  afterAll(() => rmSync(dirname(altFile), { recursive: true, force: true }));
  it.each([
    { launcher: 'ecomnet', signal: 'SIGINT' },
    { launcher: 'ecomnet', signal: 'SIGTERM' },
    { launcher: 'npm start', signal: 'SIGINT' },
    { launcher: 'npm start', signal: 'SIGTERM' },
  ] as const)('$launcher, $signal to its process: clean exit, nothing left on the host', async ({ launcher, signal }) => {
    try {
      const r = await foreground(launcher, signal);
      expect(r.out).toMatch(/✓ namespaces, bridges, veth pairs \(\d+ ms\)/);
      expect(r.out).toContain('down: nothing of ours is left on this host');
      expect(r.code).toBe(0);
      expect(await leftovers(alt)).toEqual([]);
    } finally {
      await ecomnet(['down', '--topology', altFile], altDir);
      await priv(['rm', '-rf', altDir]);
    }
  });
});
