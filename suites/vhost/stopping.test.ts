/**
 * Every way of stopping `npm start` leaves nothing: SIGINT, SIGTERM or SIGHUP, once or twice, to
 * the CLI, to npm or to the whole process group, with a terminal (Ctrl-C, the terminal closed) or
 * without (`timeout -s INT`, a CI job cancelled, a supervisor signalling the group), while the
 * platform comes up, while it serves, or while it stops. Each case runs the whole platform in a
 * virtual host of its own, so cases run side by side and the real host is never touched; the host
 * afterwards is compared with the host before, read from the host itself.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { VirtualHost } from '../../src/vhost/vhost.ts';
import { check, waitFor } from '../../src/util/wait.ts';

const root = join(import.meta.dirname, '..', '..');

/** What a leftover would change inside the host, read from it: namespaces, links, rules and chains (a table loaded empty is no change), ip_forward, accounts, processes. */
const SNAPSHOT = `ip netns list
ip -o link | cut -d: -f2
iptables-save | sed 's/\\[[0-9]*:[0-9]*\\]//' | grep -E '^[-:]' | grep -vE '^:[A-Z]+ ACCEPT *$'
cat /proc/sys/net/ipv4/ip_forward
cut -d: -f1 /etc/passwd
ps -eo comm= | grep -vxE 'bash|ps|grep|sort|nsenter|env|sudo|sh' | sort`;

type Target = 'cli' | 'npm' | 'group';
type Phase = 'up' | 'serving' | 'stopping';

interface Case {
  /** Where the signals go; with a terminal, `ctrl-c` types it and `hangup` closes the terminal. */
  target: Target | 'ctrl-c' | 'hangup';
  signal?: NodeJS.Signals;
  /** When the first is sent: mid-way through `up`, while serving, or (with a second one) while it stops. */
  phase: Phase;
}

/** The line npm start's output shows at each moment a case waits for. */
const MARK: Record<Phase, string> = { up: '✓ namespaces', serving: 'Ctrl-C stops the platform', stopping: 'ecomnet: stopping' };

/** argv that runs `command` in a session of its own, whose leader first says its process group ("pgid N"). */
/**
 * This Node first on the PATH inside: sudo (a normal user's way in) resets PATH to its
 * secure_path, where `node` may be an older one that npm start's script would run.
 */
const withNode = (argv: string[]) => ['env', `PATH=${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, ...argv];
const inSession = (command: string) => withNode(['setsid', 'sh', '-c', `echo "pgid $$"; exec ${command}`]);
const groupOf = (output: string) => /pgid (\d+)/.exec(output)?.[1];

/** Starts argv in `vh`, keeps its output, and waits for a line of it (failing at once if it ended without). */
function started(vh: VirtualHost, argv: string[], expect: TestContext['expect']) {
  const child: ChildProcess = vh.spawn(argv, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let ended = false;
  const exited = new Promise<void>((r) => child.once('close', () => r())).then(() => void (ended = true));
  const seen = (line: string) =>
    waitFor(
      () => {
        if (ended && !out.includes(line)) return `${argv.join(' ')} ended before "${line}":\n${out}`;
        check(out.includes(line), `not yet "${line}" in:\n${out}`);
      },
      { what: `"${line}"`, timeoutMs: 90_000, intervalMs: 20 },
    ).then((early) => expect(early).toBeUndefined());
  return { child, output: () => out, exited, seen };
}

/** Concurrent cases: the context's own hooks and expect, so one case's end never reaches another's host. */
async function stopNpmStart(c: Case, { onTestFinished, expect }: TestContext) {
  const vh = await VirtualHost.create({ world: false, label: 'stopping' });
  onTestFinished(() => vh.destroy());
  const inside = async (cmd: string) => (await vh.exec(['bash', '-c', cmd], { allowFail: true })).stdout;
  const before = await inside(SNAPSHOT);
  const terminal = c.target === 'ctrl-c' || c.target === 'hangup';
  // With a terminal, script(1) gives it a pty.
  // While it stops, the second signal is sent with the CLI paused as its stop begins: it is delivered in the middle of the teardown, however quick.
  const pause = c.phase === 'stopping' ? 'env ECOMNET_PAUSE_AFTER=stopping ' : '';
  const { child: npm, output, exited, seen } = started(vh, terminal ? withNode(['script', '-qfec', `${pause}npm start`, '/dev/null']) : inSession(`${pause}npm start`), expect);
  const cliPid = async () => (await inside("pgrep -f '^node bin/ecomnet.js up$'")).trim();
  const send = async () => {
    if (c.target === 'ctrl-c') return void npm.stdin!.write('\x03');
    if (c.target === 'hangup') {
      // The terminal closed: script's end of the pty goes, and the kernel hangs up the session.
      await inside('pkill -KILL -x script');
      return;
    }
    const cli = await cliPid();
    const to = { cli, npm: (await inside(`ps -o ppid= -p ${cli}`)).trim(), group: `-${groupOf(output())}` }[c.target];
    await inside(`kill -s ${c.signal} -- ${to}`);
  };
  await seen(c.phase === 'up' ? MARK.up : MARK.serving);
  await send();
  if (c.phase === 'stopping') {
    await seen(MARK.stopping);
    const cli = await cliPid();
    await waitFor(async () => check((await inside(`ps -o stat= -p ${cli}`)).trim().startsWith('T'), 'not paused yet'), { what: 'the CLI paused as it stops', timeoutMs: 30_000, intervalMs: 20 });
    await send();
    await inside(`kill -CONT ${cli}`);
    await seen('already stopping');
  }
  await Promise.race([exited, waitFor(() => check(false, 'npm start still runs'), { what: 'npm start to end', timeoutMs: 90_000 }).catch(() => {})]);
  // With a terminal hung up, npm may be gone before the CLI it ran: the CLI's own end is what counts.
  await waitFor(async () => check(!(await cliPid()), `the CLI still runs:\n${output()}`), { what: 'the CLI to end', timeoutMs: 90_000, intervalMs: 50 });
  // What the teardown stopped may take a moment to be reaped: wait for the host to be as it was, or say what stays.
  let after = '';
  await waitFor(async () => check((after = await inside(SNAPSHOT)) === before, 'the host is not as it was'), { what: 'the host as it was', timeoutMs: 10_000, intervalMs: 100 }).catch(() => {});
  expect(after, output()).toBe(before);
  // It says so, unless its terminal is gone.
  if (c.target !== 'hangup') expect(output()).toMatch(/down: nothing of ours is left|rolled back, nothing of ours is left/);
}

const cases: Case[] = [
  ...(['SIGINT', 'SIGTERM', 'SIGHUP'] as const).flatMap((signal) => (['cli', 'npm', 'group'] as const).map((target) => ({ target, signal, phase: 'serving' as const }))),
  ...(['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => ({ target: 'group' as const, signal, phase: 'up' as const })),
  { target: 'cli', signal: 'SIGINT', phase: 'up' },
  ...(['SIGINT', 'SIGTERM'] as const).flatMap((signal) => (['cli', 'group'] as const).map((target) => ({ target, signal, phase: 'stopping' as const }))),
  { target: 'ctrl-c', phase: 'serving' },
  { target: 'ctrl-c', phase: 'up' },
  { target: 'ctrl-c', phase: 'stopping' },
  { target: 'hangup', phase: 'serving' },
];

describe('every way of stopping npm start leaves the host as it was', () => {
  it.concurrent.for(cases)('$target $signal while $phase', { timeout: 180_000 }, (c, context) => stopNpmStart(c, context));
});

describe('ecomnet observe stopped by signals undoes what it changed in the namespaces', () => {
  // Per namespace: the observer's chain and rules, conntrack accounting, and its holder processes.
  const NAMESPACES = `for n in $(ip netns list | cut -d' ' -f1); do echo "$n"; ip netns exec "$n" iptables-save | grep -E '^[-:]' | grep -vE '^:[A-Z]+ ACCEPT'; ip netns exec "$n" cat /proc/sys/net/netfilter/nf_conntrack_acct; ip netns pids "$n" | wc -l; done`;

  /**
   * A background job of the host's own shell, its output kept in a file there: an observer paused
   * by SIGSTOP must not have nsenter as its parent, which stops itself in turn and waits for a
   * SIGCONT of its own.
   */
  async function inBackground(inside: (cmd: string) => Promise<string>, name: string, command: string) {
    const file = `/run/${name}.out`;
    await inside(`setsid sh -c 'echo "pgid $$"; exec ${command}' >${file} 2>&1 </dev/null &`);
    const output = () => inside(`cat ${file}`);
    const pid = async () => groupOf(await output());
    const seen = (text: string) => waitFor(async () => check((await output()).includes(text), `not yet "${text}"`), { what: `"${text}"`, timeoutMs: 60_000, intervalMs: 50 });
    // Gone, or a zombie the host's init has yet to reap: either way it has ended.
    const ended = async () =>
      waitFor(async () => check(/^(Z|)$/.test((await inside(`ps -o stat= -p ${await pid()}`)).trim()), 'still running'), { what: `${name} to end`, timeoutMs: 60_000, intervalMs: 50 });
    return { output, pid, seen, ended };
  }

  it('a second SIGINT while it undoes, and SIGTERM to its group before it has started', async ({ onTestFinished, expect }) => {
    const vh = await VirtualHost.create({ world: false, label: 'stopping-observe' });
    onTestFinished(() => vh.destroy());
    const inside = async (cmd: string) => (await vh.exec(['bash', '-c', cmd], { allowFail: true })).stdout;
    await vh.exec(withNode(['node', 'bin/ecomnet.js', 'up', '--network-only', '--detach']), { cwd: root });
    const before = await inside(NAMESPACES);
    const observe = `${process.execPath} ${root}/bin/ecomnet.js observe --watch --json`;

    // Paused (SIGSTOP) as it starts to undo: a SIGINT sent then is delivered in the middle of the undoing.
    const undoing = await inBackground(inside, 'undoing', `env ECOMNET_PAUSE_AFTER=observe-undo ${observe}`);
    await undoing.seen('"seq":');
    const pid = await undoing.pid();
    await inside(`kill -INT ${pid}`);
    await waitFor(async () => check((await inside(`ps -o stat= -p ${pid}`)).trim().startsWith('T'), 'not paused yet'), { what: 'the observer paused in its undo', timeoutMs: 30_000, intervalMs: 20 });
    await inside(`kill -INT ${pid}; kill -CONT ${pid}`);
    await undoing.ended();
    expect(await inside(NAMESPACES), await undoing.output()).toBe(before);
    expect(await undoing.output()).toContain('already stopping');

    const starting = await inBackground(inside, 'starting', observe);
    await inside(`kill -TERM -- -${await starting.pid()}`);
    await starting.ended();
    expect(await inside(NAMESPACES), await starting.output()).toBe(before);
  }, 120_000);
});
