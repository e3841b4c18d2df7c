/**
 * `down` keeps what the services said as they stopped: the supervisor is the platform's one log
 * keeper, so it must outlive them. The whole platform in a virtual host of its own.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const root = join(import.meta.dirname, '..', '..');
const ecomnet = (...args: string[]) => [process.execPath, join(root, 'bin', 'ecomnet.js'), ...args];

describe('down and the logs', () => {
  it("each service's last line, written as down stops it, is in its log afterwards", async () => {
    const vh = await VirtualHost.create({ world: false, label: 'last-lines' });
    onTestFinished(() => vh.destroy());
    await vh.exec(ecomnet('up', '--detach'), { cwd: root });
    await vh.exec(ecomnet('down'), { cwd: root });
    for (const service of ['gateway', 'product', 'order']) {
      const log = (await vh.exec(['cat', `/run/ecomnet/logs/${service}.log`], { allowFail: true })).stdout;
      expect(log.trim().split('\n').at(-1), `${service}.log`).toContain('shutting down');
    }
  }, 120_000);
});
