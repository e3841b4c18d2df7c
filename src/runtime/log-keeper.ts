/**
 * The platform's logs, bounded: one keeper per platform (in the supervisor, src/runtime/supervise.ts)
 * reads every server's output from a named pipe of its own in the logs directory and appends it
 * to the server's FILE; before FILE would pass its size it renames it to FILE.1 (FILE.1 to FILE.2,
 * ... the oldest dropped) and starts a new FILE, as logrotate's copy would but without a window
 * where lines are lost or a signal the server must understand.
 *
 * The pipe outlives its readers and writers: a server restarted writes into the same one, and a
 * keeper started again reads it where the last one stopped. Without a keeper a server's writes
 * fail (EPIPE, which our servers ignore) rather than block.
 *
 * nginx's access log is the exception, written by nginx itself to its file (no hop per request):
 * the keeper renames it and has nginx open a new one (rotateByRename).
 */
import { chmodSync, closeSync, constants, existsSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';
import { openForAppend, openRegular } from '../host/files.ts';

/** Each log at most 4 MiB now plus 2 older files: 12 MiB a log, about 100 MiB for a whole platform. */
export const LOG_LIMIT = { maxBytes: 4 * 1024 * 1024, keep: 2 };

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
    shiftGenerations(this.file, this.keep);
    this.#fd = openForAppend(this.file, LOG_MODE);
    this.#size = 0;
  }
}

/** FILE to FILE.1, FILE.1 to FILE.2, ..., FILE.KEEP dropped (renames never follow a link). */
function shiftGenerations(file: string, keep: number): void {
  const gen = (n: number) => (n ? `${file}.${n}` : file);
  if (keep === 0) {
    rmSync(file, { force: true });
    return;
  }
  rmSync(gen(keep), { force: true });
  for (let n = keep - 1; n >= 0; n--) if (existsSync(gen(n))) renameSync(gen(n), gen(n + 1));
}

const FIFO = '.fifo';

/** The named pipe a server's output goes through to its log `file` (NAME.log: NAME.fifo beside it). */
export const pipeOf = (file: string): string => join(file, '..', `${basename(file, '.log')}${FIFO}`);

/** The pipe, opened without following a link, if it is a named pipe this process owns; else undefined. */
export function openOwnPipe(fifo: string, flags: number): number | undefined {
  let fd: number;
  try {
    fd = openSync(fifo, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (st.isFIFO() && st.uid === process.geteuid!()) return fd;
  closeSync(fd);
  return undefined;
}

/** Every server's output into its bounded log: the one keeper of a platform. */
export class LogKeeper {
  readonly #limit: typeof LOG_LIMIT;
  readonly #kept = new Map<string, { log: RotatingLog; pipe: Socket }>();
  /** Bytes taken from the pipes so far: a turn that adds none found them empty. */
  received = 0;

  constructor(limit = LOG_LIMIT) {
    this.#limit = limit;
  }

  /**
   * Keep what comes through `file`'s pipe (idempotent). Held open for reading and writing, so the
   * pipe never ends while a server restarts, and what a server wrote before any keeper read it
   * (held in the pipe) comes first.
   */
  keep(file: string): void {
    const fifo = pipeOf(file);
    if (this.#kept.has(fifo)) return;
    const fd = openOwnPipe(fifo, constants.O_RDWR);
    if (fd === undefined) throw new Error(`${fifo} is not a named pipe of ours`);
    const log = new RotatingLog(file, this.#limit.maxBytes, this.#limit.keep);
    // A socket over the fd: libuv polls a pipe, where a file stream's read would block a thread.
    const pipe = new Socket({ fd, readable: true, writable: false }).on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      log.write(chunk);
    });
    this.#kept.set(fifo, { log, pipe });
  }

  /** Keep every pipe in the logs directory `dir` (a keeper started after its servers). */
  keepAll(dir: string): void {
    for (const f of readdirSync(dir)) if (f.endsWith(FIFO)) this.keep(join(dir, `${basename(f, FIFO)}.log`));
  }

  /** Once its writers are gone: resolves after a turn of the event loop in which no pipe gave anything more. */
  async drained(): Promise<void> {
    let seen = -1;
    while (seen !== this.received) {
      seen = this.received;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Stop reading (what is still in a pipe stays there for the next keeper). */
  close(): void {
    for (const { log, pipe } of this.#kept.values()) {
      pipe.destroy();
      log.close();
    }
    this.#kept.clear();
  }

  /** The logs kept, by file. */
  get files(): string[] {
    return [...this.#kept.values()].map((k) => k.log.file);
  }
}

/**
 * A log its server writes itself, by path (nginx's access log): once it reaches `rotateAt`, renamed
 * to FILE.1 (and on), a new empty FILE made (0600, never through a link) and `reopen` asked of the
 * server. Rotating short of the cap leaves room for what the server writes until it has reopened;
 * FILE.1 grown past the cap all the same (a flood during the reopen) is cut after its last whole
 * line within it on the next look. Returns whether it rotated.
 */
export async function rotateByRename(file: string, reopen: () => Promise<void>, limit = LOG_LIMIT, rotateAt = (limit.maxBytes * 3) / 4): Promise<boolean> {
  if (limit.keep) cutToCap(`${file}.1`, limit.maxBytes);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(file);
  } catch {
    return false;
  }
  if (!st.isFile() || st.size < rotateAt) return false;
  shiftGenerations(file, limit.keep);
  closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, LOG_MODE));
  await reopen();
  return true;
}

/** A regular file longer than `maxBytes` cut after its last line end within them (never through a link). */
function cutToCap(file: string, maxBytes: number): void {
  let fd: number;
  try {
    fd = openRegular(file, constants.O_RDWR);
  } catch {
    return;
  }
  try {
    const st = fstatSync(fd);
    if (st.size <= maxBytes) return;
    const tail = Buffer.alloc(Math.min(maxBytes, 64 * 1024));
    readSync(fd, tail, 0, tail.length, maxBytes - tail.length);
    ftruncateSync(fd, maxBytes - tail.length + (tail.lastIndexOf(0x0a) + 1 || tail.length));
  } finally {
    closeSync(fd);
  }
}
