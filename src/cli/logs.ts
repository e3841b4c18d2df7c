import { closeSync, existsSync, fstatSync, readdirSync, readSync } from 'node:fs';
import { openRegular } from '../host/files.ts';
import { basename, join } from 'node:path';
import type { RunDir } from '../host/run-dir.ts';

/** A log keeper keeps 4 MiB a file: nothing bigger is a log of ours. */
const MAX_READ = 4 * 1024 * 1024;

/**
 * A log, opened only if it is a regular file: root may read a run directory another user owns,
 * where a link (to a file of root's) or a FIFO (that would hang this) stands in for a log.
 */
function openLog(f: string): number | undefined {
  try {
    return openRegular(f);
  } catch {
    return undefined;
  }
}

function logFiles(dir: string, service?: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log') && (!service || f === `${service}.log` || f.startsWith(`${service}-`)))
    .map((f) => join(dir, f));
}

/**
 * Print the services' logs (the current file of each; older ones are FILE.1, FILE.2), each line prefixed with its service as `docker compose` does;
 * with follow, keep printing new lines until `stop` resolves.
 */
export async function printLogs(runDir: RunDir, service: string | undefined, follow: boolean, stop?: Promise<unknown>): Promise<number> {
  const dir = runDir.logs;
  const files = logFiles(dir, service);
  if (!files.length) {
    console.error(service ? `no log for ${service} in ${dir}` : `no logs in ${dir}: is the platform up?`);
    return 1;
  }
  const width = Math.max(...files.map((f) => basename(f, '.log').length));
  const offsets = new Map(files.map((f) => [f, 0]));
  const pump = () => {
    for (const f of files) {
      const fd = openLog(f);
      if (fd === undefined) continue;
      const size = fstatSync(fd).size;
      // Smaller than what was read: the keeper rotated it, and this is a new file. Never more than a keeper keeps.
      const from = Math.max(size < offsets.get(f)! ? 0 : offsets.get(f)!, size - MAX_READ);
      const buf = Buffer.alloc(Math.max(size - from, 0));
      if (buf.length) readSync(fd, buf, 0, buf.length, from);
      closeSync(fd);
      if (!buf.length) continue;
      const text = buf.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      offsets.set(f, from + Buffer.byteLength(text.slice(0, complete)));
      const name = basename(f, '.log').padEnd(width);
      for (const line of text.slice(0, complete).split('\n').slice(0, -1)) process.stdout.write(`${name} | ${line}\n`);
    }
  };
  pump();
  if (!follow) return 0;
  let stopped = false;
  void stop?.then(() => (stopped = true));
  while (!stopped) {
    await new Promise((r) => setTimeout(r, 250));
    pump();
  }
  return 0;
}
