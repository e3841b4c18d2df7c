import type { ServerProcess } from './child.ts';

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
export async function startAndWait(spawn: () => ServerProcess, ready: () => Promise<void>, what: string): Promise<ServerProcess> {
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
