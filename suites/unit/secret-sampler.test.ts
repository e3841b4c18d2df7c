import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePassword } from '../../src/data/password.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { scanProcesses } from '../../setup/secret-sampler.ts';

const secret = generatePassword();
const children: ReturnType<typeof spawn>[] = [];
const sleeper = (argv: string[], env?: Record<string, string>) => {
  const c = spawn('sh', ['-c', 'sleep 30', ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  children.push(c);
  return c;
};
afterAll(() => {
  for (const c of children) c.kill();
});

describe('the secret sampler (/proc/PID/cmdline and /proc/PID/environ)', () => {
  it('finds a secret in a command line and in an environment, and shows it masked', async () => {
    const inArgv = sleeper(['x', `--requirepass=${secret}`]);
    const inEnv = sleeper([], { PGPASSWORD: secret });
    // Until both shells have exec'd: before, /proc shows the forked Node's command line.
    const found = await waitFor(
      () => {
        const f = scanProcesses([secret]);
        check(
          [inArgv.pid, inEnv.pid].every((pid) => f.some((x) => x.pid === pid && x.program === 'sh')),
          `found ${JSON.stringify(f)}`,
        );
        return f;
      },
      { what: 'both sleepers', timeoutMs: 5000, intervalMs: 10 },
    );
    expect(found).toContainEqual({ pid: inArgv.pid, program: 'sh', where: 'argv', shown: 'sh -c sleep 30 x --requirepass=********' });
    expect(found).toContainEqual({ pid: inEnv.pid, program: 'sh', where: 'environ', shown: 'PGPASSWORD=********' });
    expect(JSON.stringify(found)).not.toContain(secret);
  });

  it('finds nothing when no process holds the secret', () => {
    sleeper(['x', 'not-it']);
    expect(scanProcesses([generatePassword()])).toEqual([]);
  });
});
