/**
 * What observing changes on the host, and that it is undone: conntrack accounting on in every
 * namespace and a chain of ours there while an observer runs; each namespace as found once it
 * stops, is killed (its privileged reader sees its input close), or crashes with its reader (the
 * next observer undoes it from the record written before each change).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { observeChain, startObserver } from '../../src/observe/observer.ts';
import { until } from '../../src/util/wait.ts';

const dir = runDirAt('/run/ecomnet-observe-test');
const chain = observeChain();

/** The observer child's script lives here, removed with the run directory. */
const scratch = mkdtempSync(join(tmpdir(), 'ecomnet-observe-child-'));

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await priv(['rm', '-rf', dir.root]);
});

/** The lab's namespaces: the only ones an observer changes (suites/vhost/observe-holders.test.ts: another is left alone). */
const lab = new Set([...topology.app.nodes, ...topology.outside.nodes].map((n) => n.name));

/** Per lab namespace: its accounting, whether our chain is there, and the pids inside (holders would show). */
async function host(): Promise<Map<string, string>> {
  const names = readdirSync('/run/netns')
    .filter((n) => lab.has(n))
    .sort();
  const r = await priv([
    'sh',
    '-c',
    `for n; do echo "$n $(ip netns exec "$n" sysctl -n net.netfilter.nf_conntrack_acct) $(ip netns exec "$n" iptables -w -S ${chain} >/dev/null 2>&1 && echo chain || echo no-chain) $(ip netns pids "$n" | xargs -r -n1 sh -c 'cat /proc/$0/comm' | grep -c '^tail$')"; done`,
    'sh',
    ...names,
  ]);
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
  );
}

/** An observer in a child process, as `ecomnet observe` runs: it prints its pid once started. */
function observerProcess(): Promise<{ pid: number; kill: () => void }> {
  const script = join(scratch, 'observer.ts');
  writeFileSync(
    script,
    `import { startObserver } from ${JSON.stringify(join(process.cwd(), 'src/observe/observer.ts'))};\nawait startObserver({ runDir: (await import(${JSON.stringify(join(process.cwd(), 'src/host/run-dir.ts'))})).runDirAt(${JSON.stringify(dir.root)}) });\nconsole.log('observing');\nsetInterval(() => {}, 1 << 30);\n`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('observing')) resolve({ pid: child.pid!, kill: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`the observer exited ${code} before it started`)));
  });
}

/** The observer's privileged reader: its child shell (under sudo for a sudo user). */
async function readerOf(pid: number): Promise<number> {
  const children = (p: number) => readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const c of children(pid)) {
    const comm = readFileSync(`/proc/${c}/comm`, 'utf8').trim();
    if (comm === 'sh') return c;
    if (comm === 'sudo') return readerOf(c);
  }
  throw new Error(`no reader under pid ${pid}`);
}

const observing = (m: Map<string, string>) => [...m.values()].every((v) => v.startsWith('1 chain 1'));

describe('ecomnet observe leaves each namespace as it found it', () => {
  it('switches accounting on and adds its chain in every namespace while it runs, and undoes both when it stops', async () => {
    const before = await host();
    expect(
      [...before.values()].every((v) => v.endsWith(' no-chain 0')),
      JSON.stringify([...before]),
    ).toBe(true);
    // The outside namespaces have no accounting of their own: observing switches it on there.
    expect(before.get('ext-client')).toBe('0 no-chain 0');
    const o = await startObserver({ runDir: dir });
    const during = await host();
    await o.stop();
    expect(observing(during), JSON.stringify([...during])).toBe(true);
    expect(await host()).toEqual(before);
  });

  it('an observer killed with kill -9 leaves nothing: its reader sees its input close and restores', async () => {
    const before = await host();
    const child = await observerProcess();
    expect(observing(await host())).toBe(true);
    child.kill();
    expect(await until(async () => JSON.stringify([...(await host())]) === JSON.stringify([...before]), { timeoutMs: 10_000, intervalMs: 250 })).toBe(true);
  });

  it('a crash that takes its reader too is undone by the next observer, from the record written before each change', async () => {
    const before = await host();
    const child = await observerProcess();
    // The reader first (it is root's: kill as root), then the observer: nothing restores.
    await priv(['kill', '-KILL', String(await readerOf(child.pid))]);
    child.kill();
    // Its holders follow the reader within a second (tail --pid); accounting and the chain stay.
    expect(await until(async () => [...(await host()).values()].every((v) => v.startsWith('1 chain 0')), { timeoutMs: 10_000, intervalMs: 250 })).toBe(true);
    const next = await startObserver({ runDir: dir });
    await next.stop();
    expect(await host()).toEqual(before);
  });
});
