import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hostPort, topology } from '../src/topology/default.ts';
import { status } from '../src/runtime/status.ts';
import { acquireLock, readHolder } from '../src/host/lock.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { readState } from '../src/host/state.ts';
import { check, waitFor } from '../src/util/wait.ts';

/** The real platform, driven through the `ecomnet` CLI exactly as a user would. */

/** The main platform's run directory, the one the CLI uses. */
const runDir = runDirAt();
const cliPath = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** One of the CLI's "✓ step (N ms)" lines, with when it was printed. */
export interface Step {
  step: string;
  ms: number;
  /** ms after the CLI process was started; steps of one wave run in parallel, so durations don't add up. */
  doneAt: number;
}

export interface CliRun {
  /** Wall time of the CLI process, Node's start-up included. */
  ms: number;
  /** When the CLI printed its first line: Node's start-up and module loading. */
  firstLineAt: number;
  steps: Step[];
}

/** Run the CLI, time-stamping each line of its output as it arrives. */
function cli(args: string[]): Promise<CliRun> {
  const t0 = performance.now();
  const p = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: CliRun = { ms: 0, firstLineAt: 0, steps: [] };
  let text = '';
  createInterface({ input: p.stdout }).on('line', (line) => {
    const at = performance.now() - t0;
    out.firstLineAt ||= at;
    text += `${line}\n`;
    const m = /✓ (.+) \((\d+) ms\)/.exec(line);
    if (m) out.steps.push({ step: m[1]!, ms: Number(m[2]), doneAt: at });
  });
  p.stderr.on('data', (d: Buffer) => (text += d));
  // Bounded: a hung CLI is stopped, and the bench's finally tears down whatever it left.
  const timer = setTimeout(() => p.kill('SIGTERM'), 180_000);
  return new Promise((resolve, reject) => {
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      out.ms = performance.now() - t0;
      if (code === 0) resolve(out);
      else reject(new Error(`ecomnet ${args.join(' ')} exited ${code}:\n${text.trim()}`));
    });
  });
}

/**
 * The platform lock, held for the whole bench so neither a test run nor another `ecomnet up`
 * starts in the middle. The CLI takes the lock itself (and `down` signals whoever holds it), so
 * for each CLI call it is lent and taken back.
 */
export class PlatformLock {
  #release?: () => void;

  /** Refuse, before touching anything, if a platform or a test run is already here. */
  take(): void {
    const holder = readHolder(runDir);
    if (holder) throw new Error(`the platform lock is held by pid ${holder.pid} (\`${holder.command}\`); wait for it or stop it first`);
    const state = readState(runDir);
    if (state && (state.phase === 'up' || state.namespaces.length)) throw new Error(`a platform is up (${runDir.state}, phase ${state.phase}); run \`ecomnet down\` first`);
    this.#release = acquireLock(runDir, 'npm run bench');
  }

  get held(): boolean {
    return Boolean(this.#release);
  }

  async lend<T>(fn: () => Promise<T>): Promise<T> {
    this.#release?.();
    this.#release = undefined;
    try {
      return await fn();
    } finally {
      this.#release = acquireLock(runDir, 'npm run bench');
    }
  }

  release(): void {
    this.#release?.();
    this.#release = undefined;
  }
}

/** Every service answers its health check, and nginx answers through the host port. */
async function allHealthy(): Promise<boolean> {
  const s = await status(topology, runDir);
  if (!s.up || s.nodes.some((n) => n.service && n.health !== 'healthy')) return false;
  try {
    return (await fetch(`http://localhost:${hostPort(topology)}/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

export async function waitHealthy(timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => check(await allHealthy(), 'a service or the host port does not answer'), { what: 'the platform', timeoutMs, intervalMs: 50 });
}

export const platformUp = (lock: PlatformLock) => lock.lend(() => cli(['up', '--detach']));
/** With its data: the bench's platforms keep none (a cold start starts from nothing, initdb included). */
export const platformDown = (lock: PlatformLock) => lock.lend(() => cli(['down', '--volumes']));
