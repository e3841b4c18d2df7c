/**
 * Files root writes (state, secrets, configurations, logs, pid files): never through a symbolic
 * link someone left at the name, which would make root write where they chose.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_APPEND, O_TRUNC } = constants;

/**
 * `content` in a new file at `file` with `mode` (the umask aside): whatever held the name, a
 * planted link included, is unlinked, not followed, and the file is created exclusively, so one
 * planted again in between makes this fail rather than write through it.
 */
export function writeNewFile(file: string, content: string, mode = 0o644): void {
  rmSync(file, { force: true });
  const fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/**
 * `content` replacing `file` whole: written to a new file beside it (as writeNewFile: no link
 * followed), then renamed over it, so a reader or a crash sees the old file or the new, never half.
 */
export function replaceFile(file: string, content: string, mode = 0o644): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeNewFile(tmp, content, mode);
  renameSync(tmp, file);
}

/** A descriptor appending to `file` (created if missing), or an error (ELOOP) when the name is a symbolic link. */
export function openForAppend(file: string, mode = 0o644): number {
  return openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode);
}

/** A descriptor writing `file` from empty (created if missing), or an error (ELOOP) when the name is a symbolic link. */
export function openForWrite(file: string, mode = 0o644): number {
  return openSync(file, O_WRONLY | O_TRUNC | O_CREAT | O_NOFOLLOW, mode);
}

/**
 * A descriptor on `file` only if it is a regular file, checked on the descriptor itself: never
 * opened through a link, and without blocking, so a FIFO standing at the name cannot hang the
 * reader. Throws as open(2) does (ENOENT when absent), or ENOTREG for anything but a file.
 */
export function openRegular(file: string, flags: number = O_RDONLY): number {
  const fd = openSync(file, flags | O_NOFOLLOW | O_NONBLOCK);
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTREG' });
}
