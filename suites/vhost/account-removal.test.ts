/**
 * Teardown removes the accounts it created even when another process runs under the same uid:
 * a virtual host's copy of /etc lends it the real host's accounts, so a platform inside one runs
 * its services as the numbers the real host's `down` then deletes. Run inside a virtual host, so
 * the accounts and the process are its own.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const root = join(import.meta.dirname, '..', '..');

describe('removing our accounts', () => {
  it('goes through when a process of someone else still runs under one of their uids', async () => {
    const vh = await VirtualHost.create({ world: false, label: 'accounts' });
    onTestFinished(() => vh.destroy());
    const inside = (cmd: string) => vh.exec(['bash', '-c', cmd], { allowFail: true });
    await inside('useradd --system --no-create-home --shell /usr/sbin/nologin ecomnet-lent');
    // Someone else's process under the account's number, as a virtual host's service would be.
    await inside('setpriv --reuid=ecomnet-lent --regid=ecomnet-lent --clear-groups sleep 600 </dev/null >/dev/null 2>&1 &');
    const removal = await vh.exec([process.execPath, '--input-type=module', '-e', `import { removeAccounts } from '${root}/src/runtime/account.ts'; await removeAccounts(['ecomnet-lent']);`], {
      allowFail: true,
    });
    expect(removal.exitCode, removal.stderr).toBe(0);
    expect((await inside('getent passwd ecomnet-lent')).stdout).toBe('');
    // That process is not ours to stop: it runs on under its number.
    expect((await inside("pgrep -f '^sleep 600$'")).stdout.trim()).not.toBe('');
  });
});
