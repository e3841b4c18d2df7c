/**
 * Issue 21, finding 11: every drop to an account (the services, PostgreSQL, Redis) sets
 * no_new_privs, so nothing the account runs regains privilege through a setuid or file-capability
 * binary (sudo, ping, a planted copy).
 */
import { describe, expect, it } from 'vitest';
import { setprivArgv } from '../../src/data/privilege.ts';
import { isRoot, priv } from '../../src/host/exec.ts';
import { dropTo } from '../../src/runtime/account.ts';
import { nobody } from '../../src/host/accounts.ts';

const noNewPrivs = async (prefix: string[]) => (await priv([...prefix, 'cat', '/proc/self/status'])).stdout.match(/^NoNewPrivs:\s*(\d)/m)?.[1];

describe.skipIf(!isRoot)('a process dropped to an account (skipped without root: only root can switch accounts without sudo)', () => {
  it('shows NoNewPrivs: 1, dropped to a service account or by setprivArgv (the data servers, through asUser)', async () => {
    const a = nobody();
    expect(await noNewPrivs(dropTo(a))).toBe('1');
    expect(await noNewPrivs(setprivArgv(a.uid, a.gid))).toBe('1');
    // And the same command without the drop does not: the flag is setpriv's doing.
    expect(await noNewPrivs([])).toBe('0');
  });
});
