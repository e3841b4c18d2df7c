import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { priv, privPrefix, run } from '../../src/host/exec.ts';
import { listNamespaces } from '../../src/host/links.ts';
import { junit } from '../support/junit.ts';

describe('.ci/run counting, driven through ci/lib.sh as .ci/run drives it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-ci-count-'));
  const dirty = 'ecomnet-ci-dirty';
  afterEach(async () => {
    if ((await listNamespaces()).includes(dirty)) await priv(['ip', 'netns', 'del', dirty]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** One counted run whose command prints a passing JUnit file and then runs `then`; the closing line. */
  async function countedRun(then: string): Promise<{ closing: string; out: string }> {
    const tally = join(dir, `tally-${Date.now()}.json`);
    const junitFile = join(dir, 'junit.xml');
    writeFileSync(junitFile, junit(3, 0, 0));
    const script = `. ci/lib.sh; tally=${tally}; counted dry-run ${junitFile} bash -c '${then}'; node ci/tally.ts close ${tally}`;
    const r = await run(['bash', '--norc', '-c', script], { allowFail: true, timeoutMs: 60_000 });
    const out = r.stdout + r.stderr;
    expect(readFileSync(tally, 'utf8')).not.toBe('');
    return { closing: r.stdout.trim().split('\n').at(-1)!, out };
  }

  it('a clean run: its tests only', async () => {
    const r = await countedRun('true');
    expect(r.closing, r.out).toBe('3 passed, 0 failed, 0 skipped');
  });

  it('a namespace left behind on purpose: the closing line counts a failure and says what was left', async () => {
    const r = await countedRun(`${privPrefix.join(' ')} ip netns add ${dirty}`);
    expect(r.out).toContain(`left on the host: namespace added: ${dirty}`);
    expect(r.closing, r.out).toBe('3 passed, 1 failed, 0 skipped');
  });

  it('a non-zero exit with every test passed (a failed global teardown): one failure', async () => {
    const r = await countedRun('exit 1');
    expect(r.closing, r.out).toBe('3 passed, 1 failed, 0 skipped');
  });
});
