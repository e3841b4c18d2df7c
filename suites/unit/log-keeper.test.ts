import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { printLogs } from '../../src/cli/logs.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { LogKeeper, makeLogDir, pipeOf, RotatingLog, rotateByRename } from '../../src/runtime/log-keeper.ts';
import { keepLogsWith, logPipe, releaseHeldPipes } from '../../src/runtime/spawn.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'ecomnet-logs-')));

/** A server writing `line` to its output (`fd`, a log pipe's write end), then exiting. */
async function serverDone(fd: number, line: string): Promise<void> {
  const server = spawn(process.execPath, ['-e', `process.stdout.write(${JSON.stringify(`${line}\n`)})`], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  expect((await once(server, 'exit'))[0]).toBe(0);
}

/** The keeper in a process of its own (as in the supervisor), saying "ready" once it reads every pipe in `logs`. */
const keeperProcess = (logs: string) =>
  spawn(process.execPath, ['--input-type=module', '-e', `import { LogKeeper } from ${JSON.stringify(keeperModule)}; new LogKeeper().keepAll(process.argv[1]); console.log('ready');`, logs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
const keeperModule = join(import.meta.dirname, '..', '..', 'src', 'runtime', 'log-keeper.ts');

const lines = (n: number, width = 99) => Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(width - 8)}\n`).join('');
const sizes = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, statSync(join(d, f)).size]));

describe('log keeper: a bounded, rotated log', () => {
  it('keeps FILE and KEEP older files, none over the size, whatever is written (50x the cap here)', () => {
    const file = join(fresh(), 'order.log');
    const log = new RotatingLog(file, 10_000, 2);
    const text = lines(5000);
    // Pieces of odd sizes, as a pipe delivers them: lines are cut across writes.
    for (let at = 0; at < text.length; at += 4093) log.write(Buffer.from(text.slice(at, at + 4093)));
    log.close();
    const s = sizes(dir);
    expect(Object.keys(s).sort()).toEqual(['order.log', 'order.log.1', 'order.log.2']);
    for (const size of Object.values(s)) expect(size).toBeLessThanOrEqual(10_000);
    // The newest lines are kept, whole and in order, ending with the last one written.
    const kept = ['order.log.2', 'order.log.1', 'order.log'].map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(text.endsWith(kept)).toBe(true);
    expect(kept.startsWith('0')).toBe(true);
    expect(kept.length).toBeGreaterThan(20_000);
  });

  it('cuts a line longer than the whole size, rather than letting one file grow past it', () => {
    const file = join(fresh(), 'nginx-error.log');
    const log = new RotatingLog(file, 1000, 1);
    log.write(Buffer.from(`${'y'.repeat(2500)}\n`));
    log.close();
    for (const size of Object.values(sizes(dir))) expect(size).toBeLessThanOrEqual(1000);
    expect(readFileSync(file, 'utf8').endsWith('y\n')).toBe(true);
  });

  it('continues an existing file after a restart, counting what it already holds', () => {
    const file = join(fresh(), 'gateway.log');
    const first = new RotatingLog(file, 1000, 1);
    first.write(Buffer.from(lines(9)));
    first.close();
    const second = new RotatingLog(file, 1000, 1);
    second.write(Buffer.from(lines(2)));
    second.close();
    expect(statSync(file).size).toBe(99);
    expect(statSync(`${file}.1`).size).toBe(990);
  });

  it('one keeper for every server: what a server wrote before the keeper started waits in its pipe, and a server started again writes on into the same log', async () => {
    fresh();
    const runDir = runDirAt(dir);
    makeLogDir(runDir.logs);
    const [order, nginx] = [runDir.log('order'), runDir.log('nginx-error')];
    // `up`: the servers start before their keeper (the supervisor).
    await serverDone(await logPipe(order), 'order 1');
    await serverDone(await logPipe(nginx), 'nginx 1');
    const keeper = new LogKeeper();
    onTestFinished(() => {
      keepLogsWith(undefined);
      keeper.close();
    });
    keeper.keepAll(runDir.logs);
    keepLogsWith(keeper);
    expect(keeper.files.sort()).toEqual([nginx, order]);
    await vi.waitFor(() => expect(readFileSync(order, 'utf8')).toBe('order 1\n'), { timeout: 5000 });
    // The supervisor restarting the order service.
    await serverDone(await logPipe(order), 'order 2');
    await vi.waitFor(() => expect(readFileSync(order, 'utf8')).toBe('order 1\norder 2\n'), { timeout: 5000 });
    expect(readFileSync(nginx, 'utf8')).toBe('nginx 1\n');
    expect(statSync(order).mode & 0o777).toBe(0o600);
    expect(statSync(pipeOf(order)).mode & 0o777).toBe(0o600);
  });

  it('a server whose keeper was killed does not block: its writes fail and it goes on; a keeper started again reads the same pipe', async () => {
    fresh();
    const runDir = runDirAt(dir);
    makeLogDir(runDir.logs);
    const file = runDir.log('product');
    const fd = await logPipe(file);
    const first = keeperProcess(runDir.logs);
    await once(first.stdout!, 'data');
    releaseHeldPipes();
    // 1 MiB, 16 times what the pipe holds, written after the keeper is gone.
    const server = spawn(
      process.execPath,
      [
        '-e',
        'process.stdout.write("before\\n"); process.stdin.once("data", () => { let failed = 0; for (let i = 0; i < 256; i++) try { require("fs").writeSync(1, "x".repeat(4095) + "\\n") } catch { failed++ } process.stderr.write(String(failed)); })',
      ],
      {
        stdio: ['pipe', fd, 'pipe'],
      },
    );
    closeSync(fd);
    onTestFinished(() => void server.kill('SIGKILL'));
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe('before\n'), { timeout: 5000 });
    first.kill('SIGKILL');
    await once(first, 'exit');
    let failed = '';
    server.stderr!.on('data', (d) => (failed += d));
    server.stdin!.end('go\n');
    const [code] = await Promise.race([once(server, 'exit'), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the server is blocked writing its log')), 10_000))]);
    expect(code).toBe(0);
    expect(Number(failed)).toBe(256);
    const second = keeperProcess(runDir.logs);
    onTestFinished(() => void second.kill('SIGKILL'));
    await once(second.stdout!, 'data');
    await serverDone(await logPipe(file), 'after the keeper came back');
    releaseHeldPipes();
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe('before\nafter the keeper came back\n'), { timeout: 5000 });
  });

  it("nginx's access log, which nginx writes itself: renamed once it nears the cap, a new empty file made 0600, and nginx asked to reopen", async () => {
    const file = join(fresh(), 'nginx-access.log');
    const limit = { maxBytes: 4096, keep: 2 };
    let reopened = 0;
    const reopen = async () => void reopened++;
    writeFileSync(file, lines(20));
    expect(await rotateByRename(file, reopen, limit)).toBe(false);
    writeFileSync(file, lines(35));
    expect(await rotateByRename(file, reopen, limit)).toBe(true);
    expect(reopened).toBe(1);
    expect(sizes(dir)).toEqual({ 'nginx-access.log': 0, 'nginx-access.log.1': 35 * 99 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 3; i++) {
      writeFileSync(file, lines(40));
      await rotateByRename(file, reopen, limit);
    }
    expect(Object.keys(sizes(dir)).sort()).toEqual(['nginx-access.log', 'nginx-access.log.1', 'nginx-access.log.2']);
    // What the server wrote to FILE.1 until it reopened, past the cap: cut after its last whole line within it.
    appendFileSync(`${file}.1`, lines(20));
    expect(statSync(`${file}.1`).size).toBeGreaterThan(limit.maxBytes);
    expect(await rotateByRename(file, reopen, limit)).toBe(false);
    expect(statSync(`${file}.1`).size).toBe(Math.floor(limit.maxBytes / 99) * 99);
    expect(readFileSync(`${file}.1`, 'utf8').endsWith('\n')).toBe(true);
    // A link standing in for the log is never rotated (nor followed).
    rmSync(file);
    symlinkSync(`${file}.1`, file);
    expect(await rotateByRename(file, reopen, limit)).toBe(false);
    expect(reopened).toBe(4);
  });

  it('ecomnet logs -f goes on after a rotation: the lines of the new, shorter file are printed', async () => {
    fresh();
    const runDir = runDirAt(dir);
    mkdirSync(runDir.logs);
    const file = runDir.log('order');
    writeFileSync(file, `${'before rotation '.repeat(8)}\n`.repeat(4));
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    let stop: () => void = () => {};
    try {
      const following = printLogs(runDir, 'order', true, new Promise<void>((r) => (stop = r)));
      await new Promise((r) => setTimeout(r, 300));
      // What the keeper does when the file is full: rename it, start a new one.
      renameSync(file, `${file}.1`);
      writeFileSync(file, 'after rotation\n');
      await new Promise((r) => setTimeout(r, 600));
      stop();
      expect(await following).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed.filter((l) => l.includes('before rotation'))).toHaveLength(4);
    expect(printed).toContain('order | after rotation\n');
  });

  it("ecomnet logs prints regular files only: a link standing in for a log (to a file of root's) or a FIFO (that would hang it) is passed over", async () => {
    fresh();
    const runDir = runDirAt(dir);
    mkdirSync(runDir.logs);
    writeFileSync(runDir.log('gateway'), 'gateway line\n');
    writeFileSync(join(dir, 'secret'), 'not a log: root only\n');
    symlinkSync(join(dir, 'secret'), runDir.log('order'));
    execFileSync('mkfifo', [runDir.log('product')]);
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      expect(await printLogs(runDir, undefined, false)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toEqual(['gateway | gateway line\n']);
  });
});
