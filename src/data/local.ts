import { rm } from 'node:fs/promises';
import { spawnServer, type ServerProcess } from './child.ts';

/** A data server started for tests on 127.0.0.1; down()/up() simulate an outage on the same port. */
export interface LocalServer {
  url: string;
  host: string;
  port: number;
  password: string;
  /** Stop the server but keep its data, as in an outage. */
  down(): Promise<void>;
  /** Start it again on the same port with the same data. */
  up(): Promise<void>;
  /** Stop it and delete everything it wrote. */
  stop(): Promise<void>;
  /** Recent server log, for diagnosing a failed test. */
  output(): string;
}

/** Start `spawn()` and wait for `ready()`, failing fast with the log if the process exits first. */
async function startAndWait(spawn: () => ServerProcess, ready: () => Promise<void>, what: string): Promise<ServerProcess> {
  const proc = spawn();
  const died = proc.exited.then((code) => {
    throw new Error(`${what} exited with ${code} before it was ready:\n${proc.output()}`);
  });
  try {
    await Promise.race([ready(), died]);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  died.catch(() => {});
  return proc;
}

export interface LocalSpec {
  /** Directory the server writes in; removed by stop() and on a failed start. */
  dir: string;
  argv: string[];
  ready: () => Promise<void>;
  what: string;
  url: string;
  host: string;
  port: number;
  password: string;
  stopSignal: NodeJS.Signals;
}

/** Start a throwaway server and hand back the outage controls tests use. */
export async function localServer(spec: LocalSpec): Promise<LocalServer> {
  let proc: ServerProcess | undefined;
  const up = async () => {
    if (proc) return;
    proc = await startAndWait(() => spawnServer(spec.argv), spec.ready, spec.what);
  };
  const down = async () => {
    await proc?.stop(spec.stopSignal);
    proc = undefined;
  };
  await up().catch(async (err: unknown) => {
    await rm(spec.dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: spec.url,
    host: spec.host,
    port: spec.port,
    password: spec.password,
    up,
    down,
    async stop() {
      await down();
      await rm(spec.dir, { recursive: true, force: true });
    },
    output: () => proc?.output() ?? '',
  };
}
