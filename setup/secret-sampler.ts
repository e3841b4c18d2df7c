/**
 * Watches every process on the host for the run's secrets in its command line or environment
 * (/proc/PID/cmdline, /proc/PID/environ), which `ps` and other users, or the same user's other
 * programs, can read. Run as root (so every environment is readable) for the length of a test
 * run: `node secret-sampler.ts RUN_DIR...` re-reads each run directory's secrets.json every
 * tick (they appear once `up` has made them), prints one JSON line per finding, with the secret
 * masked, and exits when its standard input closes.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { privPrefix } from '../src/host/exec.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { readSecrets } from '../src/runtime/secrets.ts';

export interface Leak {
  pid: number;
  /** The program (its argv[0]), so the leak can be traced. */
  program: string;
  where: 'argv' | 'environ';
  /** The command line or variable that held it, secret masked. */
  shown: string;
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
};

const mask = (text: string, secrets: string[]) => secrets.reduce((t, s) => t.split(s).join('********'), text);

/** What one process showed last time: its environment is read again only when its command line changed (an exec). */
type Seen = Map<number, { cmdline: string; environ: string }>;

/** Every process whose argv or environment holds one of `secrets`, now; ours excepted. */
export function scanProcesses(secrets: string[], seen: Seen = new Map()): Leak[] {
  if (!secrets.length) return [];
  const out: Leak[] = [];
  const alive = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    alive.add(pid);
    const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
    let known = seen.get(pid);
    if (known?.cmdline !== cmdline) {
      known = { cmdline, environ: read(`/proc/${pid}/environ`) ?? '' };
      seen.set(pid, known);
    }
    const argv = cmdline.split('\0');
    const program = argv[0] || '?';
    if (secrets.some((s) => cmdline.includes(s))) out.push({ pid, program, where: 'argv', shown: mask(argv.join(' ').trim(), secrets) });
    for (const v of known.environ.split('\0')) if (secrets.some((s) => v.includes(s))) out.push({ pid, program, where: 'environ', shown: mask(v, secrets) });
  }
  for (const pid of seen.keys()) if (!alive.has(pid)) seen.delete(pid);
  return out;
}

/** The secrets of every run directory that has them now (a file being written counts next tick). */
function secretsOf(dirs: string[]): string[] {
  return dirs.flatMap((d) => {
    try {
      return Object.values(readSecrets(runDirAt(d)) ?? {}).filter((s) => s.length >= 4);
    } catch {
      return [];
    }
  });
}

export interface SecretWatch {
  /** Ends the watch and returns what it found, each finding once. */
  stop(): Promise<Leak[]>;
}

/** Start the sampler as root over `dirs`; resolves once it watches. */
export async function watchSecrets(dirs: string[]): Promise<SecretWatch> {
  const [file, ...args] = [...privPrefix, process.execPath, fileURLToPath(import.meta.url), ...dirs];
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length) resolve();
    });
    child.once('error', reject);
    void exited.then(() => reject(new Error('the secret sampler exited before it watched')));
  });
  return {
    async stop() {
      child.stdin.end();
      await exited;
      return lines.slice(1).map((l) => JSON.parse(l) as Leak);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dirs = process.argv.slice(2);
  const seen = new Set<string>();
  const processes: Seen = new Map();
  const tick = () => {
    for (const leak of scanProcesses(secretsOf(dirs), processes)) {
      const key = `${leak.pid} ${leak.where} ${leak.shown}`;
      if (seen.has(key)) continue;
      seen.add(key);
      process.stdout.write(`${JSON.stringify(leak)}\n`);
    }
  };
  // Often enough to catch a client that lives a few tens of milliseconds, at a few percent of a core.
  const timer = setInterval(tick, 50);
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => {
    clearInterval(timer);
    tick();
    process.exit(0);
  });
  // The parent reads this line before the run starts: the watch is on.
  process.stdout.write('{"watching":true}\n');
}
