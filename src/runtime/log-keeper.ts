/**
 * A server's log, bounded: what it writes to its stdout or stderr comes through a pipe to this
 * process, which appends it to FILE and, before FILE would pass its size, renames it to FILE.1
 * (FILE.1 to FILE.2, ... the oldest dropped) and starts a new FILE, as logrotate's copy would but
 * without a window where lines are lost or a signal the server must understand. It ends when
 * every writer has closed the pipe (the server and its children are gone).
 *
 *   node log-keeper.ts FILE MAX_BYTES KEEP  <  the server's output
 *   node log-keeper.ts FILE MAX_BYTES KEEP FIFO PID_FILE    (a server that opens FIFO itself)
 */
import { chmodSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { alive } from '../host/proc.ts';
import { openForAppend } from '../host/files.ts';
import { fileURLToPath } from 'node:url';

/** Each log at most 4 MiB now plus 2 older files: 12 MiB a log, about 100 MiB for a whole platform. */
export const LOG_LIMIT = { maxBytes: 4 * 1024 * 1024, keep: 2 };

export const logKeeperScript = fileURLToPath(import.meta.url);

/**
 * Logs are their owner's alone (root reads them too, and `ecomnet logs` runs as one of the two):
 * a server may echo what it was sent, a PostgreSQL error its statement.
 */
const LOG_MODE = 0o600;

/** The logs directory, 0700 whatever the umask (mkdir's mode is masked by it). */
export function makeLogDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** `file` and its `keep` older generations, never more than `maxBytes` each. */
export class RotatingLog {
  readonly file: string;
  readonly maxBytes: number;
  readonly keep: number;
  #fd: number;
  #size: number;

  constructor(file: string, maxBytes: number, keep: number) {
    if (!(Number.isInteger(maxBytes) && maxBytes > 0 && Number.isInteger(keep) && keep >= 0)) throw new Error(`a log needs a positive size and a count of older files, not ${maxBytes} and ${keep}`);
    this.file = file;
    this.maxBytes = maxBytes;
    this.keep = keep;
    this.#fd = openForAppend(file, LOG_MODE);
    this.#size = statSync(file).size;
  }

  /** Append, rotating first whenever the next piece would not fit; a piece breaks after its last whole line that fits. */
  write(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length) {
      const room = this.maxBytes - this.#size;
      if (rest.length <= room) {
        this.#append(rest);
        return;
      }
      // Whole lines where possible; a file that is empty takes as much of an over-long line as fits.
      const cut = rest.subarray(0, room).lastIndexOf(0x0a) + 1 || (this.#size === 0 ? room : 0);
      if (cut) this.#append(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      this.#rotate();
    }
  }

  close(): void {
    closeSync(this.#fd);
  }

  #append(b: Buffer): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.#fd, b, done);
    this.#size += b.length;
  }

  #rotate(): void {
    closeSync(this.#fd);
    const gen = (n: number) => (n ? `${this.file}.${n}` : this.file);
    if (this.keep === 0) rmSync(this.file, { force: true });
    else {
      rmSync(gen(this.keep), { force: true });
      for (let n = this.keep - 1; n >= 0; n--) if (existsSync(gen(n))) renameSync(gen(n), gen(n + 1));
    }
    this.#fd = openForAppend(this.file, LOG_MODE);
    this.#size = 0;
  }
}

/** Read a pid file written as "PID\n"; undefined until it is complete. */
function pidIn(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return text.endsWith('\n') ? Number(text.trim()) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A named pipe, for a server that opens its log by path (nginx's access_log: a path it opens
 * itself, which a socket behind /dev/stdout cannot be). Held open for reading and writing, so
 * it neither blocks before the server opens it nor ends while the server reopens it; the
 * keeper ends once its server is gone (or never started within a minute).
 *
 * A restart gives the next server a new pipe at the same path and a new pid in the same file,
 * while this keeper may still be on its way out. So it watches the first pid the file names,
 * its own server's, and removes the path only while it is still its own pipe: removing the
 * next one before its keeper opened it left nginx blocked in open() for good (no reader could
 * ever come), and the supervisor waiting 30 s for it to answer.
 */
function keepFifo(log: RotatingLog, fifo: string, pidFile: string): void {
  const fd = openSync(fifo, constants.O_RDWR);
  const own = fstatSync(fd);
  // A socket over the fd (libuv polls a pipe): a file stream's blocked read would keep the process from exiting.
  new Socket({ fd, readable: true, writable: false }).on('data', (chunk) => log.write(chunk));
  const since = Date.now();
  let server: number | undefined;
  const watch = setInterval(() => {
    server ??= pidIn(pidFile);
    if (server === undefined ? Date.now() - since < 60_000 : alive(server)) return;
    clearInterval(watch);
    // What the server wrote last is read before the keeper goes.
    setTimeout(() => {
      log.close();
      if (isFile(fifo, own)) rmSync(fifo, { force: true });
      process.exit(0);
    }, 500);
  }, 500);
}

/** Does `path` still name the file `st` describes (the same inode on the same device)? */
function isFile(path: string, st: { dev: number; ino: number }): boolean {
  try {
    const now = statSync(path);
    return now.dev === st.dev && now.ino === st.ino;
  } catch {
    return false;
  }
}

if (process.argv[1] === logKeeperScript) {
  const [file, max, keep, fifo, pidFile] = process.argv.slice(2);
  if (!file) throw new Error('usage: log-keeper.ts FILE MAX_BYTES KEEP [FIFO PID_FILE]');
  const log = new RotatingLog(file, Number(max), Number(keep));
  // Detached from the CLI's terminal: a Ctrl-C there must not end the log before the server.
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
  if (fifo && pidFile) keepFifo(log, fifo, pidFile);
  else {
    process.stdin.on('data', (chunk: Buffer) => log.write(chunk));
    process.stdin.on('end', () => log.close());
  }
}
