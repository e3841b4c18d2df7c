import { spawn, type ChildProcess } from 'node:child_process';

/** A foreground server process whose recent output is kept for error messages. */
export interface ServerProcess {
  readonly pid: number;
  /** Last lines of stdout+stderr. */
  output(): string;
  /** Resolves with the exit code (or null if killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Send `signal`, escalate to SIGKILL after graceMs, resolve once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const KEEP_BYTES = 16 * 1024;

export function spawnServer(argv: string[]): ServerProcess {
  const [file, ...args] = argv;
  const child: ChildProcess = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-KEEP_BYTES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      keep(Buffer.from(String(err)));
      resolve(-1);
    });
    child.once('exit', (code) => resolve(code));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid: child.pid ?? -1,
    output: () => log,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (done) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
