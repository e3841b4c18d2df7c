import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { olderThan } from '../../bin/node-check.js';
import { run } from '../../src/host/exec.ts';
import pkg from '../../package.json' with { type: 'json' };

const wanted = pkg.engines.node.replace(/^>=\s*/, '');
/** Debian's own Node (20 on Debian 12): the old Node a new user is most likely to have. */
const systemNode = '/usr/bin/node';

describe('a Node too old for the TypeScript sources is told so in one line', () => {
  it('compares versions part by part, as numbers', () => {
    expect(olderThan('20.20.2', '22.22')).toBe(true);
    expect(olderThan('22.9.0', '22.22')).toBe(true);
    expect(olderThan('22.22.0', '22.22')).toBe(false);
    expect(olderThan('24.1.0', '22.22')).toBe(false);
    expect(olderThan('22.22.1', '22.22.2')).toBe(true);
  });

  it('npm start with an old Node: one clear line naming both versions, exit 1, no stack', async (ctx) => {
    const version = existsSync(systemNode) ? (await run([systemNode, '-p', 'process.versions.node'])).stdout.trim() : '';
    if (!version || !olderThan(version, wanted)) {
      console.log(`skip reason: no Node older than ${wanted} at ${systemNode} (found ${version || 'none'})`);
      ctx.skip();
    }
    const r = await run([systemNode, 'bin/ecomnet.js', 'up'], { allowFail: true });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`ecomnet needs Node ${wanted} or newer, found ${version}`)]);
    expect(r.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
  });
});
