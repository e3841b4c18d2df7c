import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { dropTo, useraddArgv } from '../../src/runtime/account.ts';
import { ACCOUNT_ROLES, accountName, accountNames } from '../../src/host/accounts.ts';
import { servicePackages } from '../../src/runtime/stage.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';

/** Issue 12, least privilege: what can be proven without a host (the live facts are in suites/phase2/privilege.test.ts). */

describe('service accounts', () => {
  it('one per service and one for nginx, named from the topology tag, so another topology has its own', () => {
    expect(accountNames(topology)).toEqual(['ecomnet-gateway', 'ecomnet-product', 'ecomnet-order', 'ecomnet-nginx']);
    expect(accountNames(alt).every((n) => n.startsWith(`${alt.tag}-`))).toBe(true);
    expect(new Set([...accountNames(topology), ...accountNames(alt)]).size).toBe(2 * ACCOUNT_ROLES.length);
  });

  it("a name beyond Linux's 32 characters is refused, naming the tag", () => {
    expect(() => accountName({ tag: `ecomnet-${'x'.repeat(20)}` }, 'gateway')).toThrow(/longer than Linux's 32 characters: choose a shorter tag/);
  });

  it('useradd makes a system account with its own group, no home and no login shell', () => {
    const argv = useraddArgv('ecomnet-order');
    expect(argv).toEqual(expect.arrayContaining(['--system', '--user-group', '--no-create-home', '/nonexistent', '/usr/sbin/nologin']));
    expect(argv.at(-1)).toBe('ecomnet-order');
    expect(argv.join(' ')).not.toMatch(/--groups|-G\b|sudo/);
  });

  it('dropping to an account grants no capability (no ambient, no inheritable)', () => {
    expect(dropTo({ name: 'x', uid: 998, gid: 997 }).join(' ')).toBe('setpriv --reuid=998 --regid=997 --init-groups --no-new-privs --');
  });
});

describe('what a run leaves behind', () => {
  const d = runDirAt('/run/ecomnet-example');

  it('each service has a compile cache of its own, and down removes them all with the staged code', () => {
    expect(new Set(['gateway', 'product', 'order'].map((c) => d.cacheOf(c))).size).toBe(3);
    for (const c of ['gateway', 'product', 'order']) expect(d.cacheOf(c).startsWith(`${d.compileCache}/`)).toBe(true);
    expect(d.runFiles).toEqual(expect.arrayContaining([d.compileCache, d.stage]));
  });
});

describe('what a staged copy holds', () => {
  it("the packages the services import with their dependencies, and nothing of the tests' or the CLI's", () => {
    const pkgs = servicePackages().map((p) => p.replace(/^node_modules\//, ''));
    expect(pkgs).toEqual(expect.arrayContaining(['fastify', 'pg', 'ioredis', 'undici', 'pino', 'pg-pool', 'avvio']));
    for (const absent of ['vitest', 'testcontainers', 'dockerode', 'typescript', '@biomejs/biome']) expect(pkgs).not.toContain(absent);
  });
});
