/** The command line a user is told to run instead (no passwordless sudo; another user's platform): built from how the CLI was started. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLineAs, run } from '../../src/host/exec.ts';
import { topology } from '../../src/topology/default.ts';

const cli = join(import.meta.dirname, '..', '..', 'bin', 'ecomnet.js');

const argv = (...args: string[]) => [process.execPath, '/srv/ecomnet/bin/ecomnet.js', ...args];

describe('commandLineAs', () => {
  it('through npx: sudo npx ecomnet and the same arguments', () => {
    expect(commandLineAs('root', undefined, argv('up', '--network-only', '--detach'), { npm_lifecycle_event: 'npx', npm_command: 'exec' })).toBe('sudo npx ecomnet up --network-only --detach');
  });

  it("through npm start: the script's own arguments are not repeated, the user's follow --", () => {
    const env = { npm_lifecycle_event: 'start', npm_lifecycle_script: 'exec node bin/ecomnet.js up' };
    expect(commandLineAs('root', undefined, argv('up'), env)).toBe('sudo npm start');
    expect(commandLineAs('root', undefined, argv('up', '--data', 'containers'), env)).toBe('sudo npm start -- --data containers');
  });

  it('run directly: this Node and the CLI by absolute path, which sudo finds whatever its secure_path', () => {
    expect(commandLineAs('root', undefined, argv('down', '--topology', 'my lab.json'), {})).toBe(`sudo ${process.execPath} /srv/ecomnet/bin/ecomnet.js down --topology 'my lab.json'`);
  });

  it("as another user, another command: sudo -u NAME; under npm start, npx (the script's command is not the one meant)", () => {
    expect(commandLineAs('alice', ['down'], argv('up'), {})).toBe(`sudo -u alice ${process.execPath} /srv/ecomnet/bin/ecomnet.js down`);
    expect(commandLineAs('#1001', ['down'], argv('up'), { npm_lifecycle_event: 'start', npm_lifecycle_script: 'exec node bin/ecomnet.js up' })).toBe("sudo -u '#1001' npx ecomnet down");
  });

  it('quotes what a shell would split or expand, quotes included', () => {
    expect(commandLineAs('root', ['up', "it's $HOME"], argv(), {})).toMatch(/ up 'it'\\''s \$HOME'$/);
  });
});

describe('what the CLI prints reaches its reader whole', () => {
  it('a --dry-run larger than a pipe holds (a topology of 156 namespaces) arrives to its last line, however slowly it is read', async () => {
    const t = structuredClone(topology);
    for (let i = 0; i < 150; i++) t.app.nodes.push({ name: `extra-${i}`, ip: `10.0.1.${i + 1}`, veth: `veth-x${i}`, role: 'extra' });
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-big-topology-'));
    try {
      const file = join(dir, 'big.json');
      writeFileSync(file, JSON.stringify(t));
      // A reader slower than the CLI: what process.exit would drop is still unwritten when it exits.
      const out = await run(['sh', '-c', `"$0" "$1" up --dry-run --topology "$2" | (sleep 0.5; cat)`, process.execPath, cli, file], { allowFail: true, timeoutMs: 30_000 });
      expect(out.exitCode, out.stderr).toBe(0);
      expect(out.stdout.length).toBeGreaterThan(128 * 1024);
      expect(out.stdout.trimEnd().split('\n').at(-1)).toBe('EOF');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
