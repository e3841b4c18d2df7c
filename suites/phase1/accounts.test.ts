import { afterAll, describe, expect, it } from 'vitest';
import { cleanup } from '../../src/cleanup.ts';
import { priv } from '../../src/host/exec.ts';
import { ensureRunDir, runDirAt } from '../../src/host/run-dir.ts';
import { newState, readState, writeState } from '../../src/host/state.ts';
import { ensureAccounts, useraddArgv } from '../../src/runtime/account.ts';
import { accountName, accountNames, localAccount } from '../../src/host/accounts.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';

/**
 * The services' accounts are ours by construction: `up` records each in the state before
 * creating it, `down` (also after a crash: it reads only the state) removes exactly those, and
 * an account that was there before is used and left as found. A second topology's, so the
 * platform under test keeps its own.
 */

const dir = runDirAt('/run/ecomnet-accounts-test');
const theirs = accountName(alt, 'nginx');

afterAll(async () => {
  for (const n of accountNames(alt)) if (localAccount(n)) await priv(['userdel', n]);
  await priv(['rm', '-rf', dir.root]);
});

describe('service accounts: created when missing, recorded first, removed only if ours', () => {
  it('up creates the missing ones, each recorded before it exists; a crash, then down, removes those and keeps the one found', async () => {
    for (const n of accountNames(alt)) expect(localAccount(n), `${n} must not exist before the test`).toBeUndefined();
    await priv(useraddArgv(theirs));
    await ensureRunDir(dir);
    const state = newState(alt.tag, { data: 'native', networkOnly: false, guard: false });
    const existedWhenRecorded: boolean[] = [];
    const accounts = await ensureAccounts(alt, (name) => {
      existedWhenRecorded.push(localAccount(name) !== undefined);
      state.accounts = [...(state.accounts ?? []), name];
      writeState(dir, state);
    });
    const ours = accountNames(alt).filter((n) => n !== theirs);
    expect(readState(dir)?.accounts).toEqual(ours);
    expect(existedWhenRecorded).toEqual(ours.map(() => false));
    expect(Object.values(accounts).map((a) => a.name)).toEqual(accountNames(alt));
    for (const a of Object.values(accounts)) expect(a.uid).toBeGreaterThan(0);

    // The run stops here (a crash): `down` has only the state file to go by.
    await cleanup(dir, () => {}, alt);
    for (const n of ours) expect(localAccount(n), `${n} was ours`).toBeUndefined();
    expect(localAccount(theirs), `${theirs} was there before`).toBeDefined();
    expect(readState(dir)).toBeUndefined();
  });
});
