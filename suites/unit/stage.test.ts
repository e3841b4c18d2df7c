import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { priv } from '../../src/host/exec.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { dropTo } from '../../src/runtime/account.ts';
import { nobody } from '../../src/host/accounts.ts';
import { runnableCode } from '../../src/runtime/stage.ts';

/**
 * A checkout the services' accounts cannot read (under /root, in a 0700 home): what they run is
 * copied, owned by root and readable by all, instead of granting them CAP_DAC_READ_SEARCH (which
 * reads every file, /etc/shadow included). `nobody` stands in for a service account: neither has
 * a group or capability that would let it read another user's files.
 */

const repo = resolve(import.meta.dirname, '..', '..');
// mkdtemp makes it 0700: the private checkout. Its sibling, opened to 0755, holds the run directory.
const home = mkdtempSync('/tmp/ecomnet-private-checkout-');
const runRoot = mkdtempSync('/tmp/ecomnet-stage-run-');
chmodSync(runRoot, 0o755);
afterAll(async () => {
  await priv(['rm', '-rf', runRoot]);
  rmSync(home, { recursive: true, force: true });
});

describe('services run from a private checkout without any capability', () => {
  it('copies what they run into the run directory, owned by root, and nobody runs the services from it', async () => {
    const checkout = join(home, 'ecomnet');
    cpSync(join(repo, 'src'), join(checkout, 'src'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(checkout, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'));
    const account = nobody();
    const main = join(checkout, 'src/services/main.ts');
    const direct = await priv([...dropTo(account), process.execPath, main], { allowFail: true });
    expect(direct.exitCode, 'the checkout is private').not.toBe(0);
    expect(direct.stderr).toMatch(/EACCES|permission denied|Cannot find module/i);

    const dir = runDirAt(join(runRoot, 'run'));
    const said: string[] = [];
    const t0 = performance.now();
    const code = await runnableCode(dir, account, (line) => said.push(line), checkout);
    const ms = performance.now() - t0;
    expect(code.main).toBe(join(dir.stage, 'src/services/main.ts'));
    expect(said.join('\n')).toMatch(/services run from a copy in .* \(nobody cannot read /);

    // Root's, and no one else may change a byte: not the account, not the invoking user.
    const notRoots = await priv(['find', dir.stage, '(', '!', '-user', 'root', '-o', '-perm', '/022', ')', '-print']);
    expect(notRoots.stdout).toBe('');
    // Without arguments main.ts prints its usage and exits 2, after every import (fastify, pg, ioredis, undici) has loaded.
    const staged = await priv([...dropTo(account), process.execPath, code.main], { allowFail: true });
    expect({ exit: staged.exitCode, stderr: staged.stderr.trim() }).toEqual({ exit: 2, stderr: 'usage: node src/services/main.ts <config.json>' });

    const size = await priv(['du', '-sm', dir.stage]);
    console.log(`staged ${size.stdout.split('\t')[0]} MB in ${Math.round(ms)} ms`);
  });
});
