import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { printLogs } from '../../src/cli/logs.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { logKeeperScript, RotatingLog } from '../../src/runtime/log-keeper.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'ecomnet-logs-')));

/** A server that writes its pid file, opens its log by path, writes 200 lines of 100 bytes and exits. */
const serverWriting = (pidFile: string, log: string) => `
  const fs = require('node:fs');
  fs.writeFileSync(${JSON.stringify(pidFile)}, process.pid + '\\n');
  const fd = fs.openSync(${JSON.stringify(log)}, 'a');
  for (let i = 0; i < 200; i++) fs.writeSync(fd, 'request ' + String(i).padStart(3, '0') + ' ' + 'r'.repeat(87) + '\\n');`;

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

  it('as a process, drains its pipe to the end: 8 MB through a 1 MB cap leaves at most 3 MB, the last line kept', async () => {
    const file = join(fresh(), 'product.log');
    const keeper = spawn(process.execPath, [logKeeperScript, file, String(1 << 20), '2'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const text = lines(80_000);
    keeper.stdin.end(text);
    const [code] = await once(keeper, 'exit');
    expect(code).toBe(0);
    const s = sizes(dir);
    expect(Object.keys(s)).toHaveLength(3);
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 << 20);
    expect(readFileSync(file, 'utf8').endsWith(text.slice(-100))).toBe(true);
  });

  it('from a named pipe the server opens by path (nginx access_log): keeps what it wrote and ends once the server is gone', async () => {
    fresh();
    const [file, fifo, pidFile] = ['nginx-access.log', 'nginx-access.fifo', 'nginx.pid'].map((f) => join(dir, f)) as [string, string, string];
    execFileSync('mkfifo', [fifo]);
    const keeper = spawn(process.execPath, [logKeeperScript, file, '4096', '1', fifo, pidFile], { stdio: 'ignore' });
    const server = spawn(process.execPath, ['-e', serverWriting(pidFile, fifo)], { stdio: 'inherit' });
    expect((await once(server, 'exit'))[0]).toBe(0);
    const [code] = await once(keeper, 'exit');
    expect(code).toBe(0);
    const s = sizes(dir);
    expect(Object.keys(s).sort()).toEqual(['nginx-access.log', 'nginx-access.log.1', 'nginx.pid']);
    expect(s['nginx-access.log']! + s['nginx-access.log.1']!).toBeLessThanOrEqual(2 * 4096);
    expect(readFileSync(file, 'utf8')).toMatch(/request 199 r+\n$/);
  });

  it("a restart's new pipe at the same path outlives the keeper of the server before: it watches its own server, and removes only its own pipe", async () => {
    fresh();
    const [file, fifo, pidFile] = ['nginx-access.log', 'nginx-access.fifo', 'nginx.pid'].map((f) => join(dir, f)) as [string, string, string];
    const sleeper = () => spawn('sleep', ['30'], { stdio: 'ignore' });
    const first = sleeper();
    const next = sleeper();
    try {
      execFileSync('mkfifo', [fifo]);
      writeFileSync(pidFile, `${first.pid}\n`);
      const keeper = spawn(process.execPath, [logKeeperScript, file, '4096', '1', fifo, pidFile], { stdio: 'ignore' });
      const exited = once(keeper, 'exit');
      // Open for writing only once the keeper has it open for reading: then it has read the pid file too.
      await vi.waitFor(() => expect(readdirSync(dir)).toContain('nginx-access.log'), { timeout: 5000 });
      writeFileSync(fifo, 'first server\n');
      first.kill('SIGKILL');
      // Long enough for the keeper's look (every 500 ms) to find its server dead, not for it to leave.
      await new Promise((r) => setTimeout(r, 700));
      // The restart, as fifoLogKeeper and the server's start do it: a new pipe at the path, the next pid in the file.
      rmSync(fifo);
      execFileSync('mkfifo', [fifo]);
      const made = statSync(fifo).ino;
      writeFileSync(pidFile, `${next.pid}\n`);
      const [code] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the keeper of the dead server is still running')), 5000))]);
      expect(code).toBe(0);
      expect(statSync(fifo).isFIFO() && statSync(fifo).ino, "the next server's pipe").toBe(made);
      expect(readFileSync(file, 'utf8')).toBe('first server\n');
    } finally {
      first.kill('SIGKILL');
      next.kill('SIGKILL');
    }
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
