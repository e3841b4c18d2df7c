import type Dockerode from 'dockerode';
import { engine, engineEndpoint } from '../host/engine.ts';

/**
 * Preflight, teardown and image handling through dockerode, the Docker client testcontainers
 * itself is built on, without loading testcontainers: `down` must work (and be quick) whatever
 * happened to the `up` that started them. dockerode is loaded on first use only, so a `down`
 * with no containers to remove never pays for it.
 */

/** Where the engine is and a client for it are the host's (src/host/engine.ts): the grader reads the engine too. */
export { engine, engineEndpoint } from '../host/engine.ts';

/** Every container of ours carries it, with the topology's tag as value. */
export const LABEL = 'ecomnet.tag';

export const labelFilter = (tag: string): string => `${LABEL}=${tag}`;

/** Names say whose and what they are in `docker ps`: ecomnet-postgres. */
export const containerName = (tag: string, component: string): string => `${tag}-${component}`;

/** What dockerode rejects with: an HTTP status the call did not expect, or a connection error. */
interface EngineError extends Error {
  statusCode?: number;
  json?: unknown;
}

/** The engine's answer to a failed call (404, 409, ...), or undefined when it never answered. */
export const statusOf = (e: unknown): number | undefined => (e as EngineError).statusCode;

/** One line for a failed call: the engine's own message when it answered, else why it did not. */
export function reasonOf(e: unknown, timeoutMs?: number): string {
  const err = e as EngineError;
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return timeoutMs ? `no answer in ${timeoutMs} ms` : err.message;
  if (err.statusCode !== undefined) {
    const said = (err.json as { message?: string } | null)?.message ?? (typeof err.json === 'string' ? err.json : '');
    return `it answered ${err.statusCode}${said ? ` ${said.trim()}` : ''}`;
  }
  return err.message;
}

/** Fail at once, before anything is created, when containers mode has no engine to talk to. */
export async function requireEngine(): Promise<void> {
  const { shown } = engineEndpoint();
  const timeoutMs = 3000;
  let reason: string;
  try {
    const docker = await engine();
    // dockerode 5 takes an abortSignal here; @types/dockerode 4 does not list it.
    const ping = docker.ping as (this: Dockerode, options: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping.call(docker, { abortSignal: AbortSignal.timeout(timeoutMs) });
    return;
  } catch (e) {
    reason = reasonOf(e, timeoutMs);
  }
  throw new Error(
    `--data containers needs a Docker engine, and none answers at ${shown} (${reason}). ` +
      'Start one (sudo systemctl start docker, or sudo dockerd &), point DOCKER_HOST at a running one, ' +
      'or use the native data layer (--data native, the default; unset ECOMNET_DATA).',
  );
}

export async function engineReachable(): Promise<boolean> {
  return requireEngine().then(
    () => true,
    () => false,
  );
}

/** Ids of every container (running or not) that carries our label for `tag`. */
export async function labelledContainers(tag: string): Promise<string[]> {
  const timeoutMs = 10_000;
  try {
    const list = await (await engine()).listContainers({ all: true, filters: { label: [labelFilter(tag)] }, abortSignal: AbortSignal.timeout(timeoutMs) });
    return list.map((c) => c.Id);
  } catch (e) {
    throw new Error(`listing containers labelled ${labelFilter(tag)} failed: ${reasonOf(e, timeoutMs)}`);
  }
}

/** Running now; false when the engine does not know it (or answers with an error). */
export async function containerRunning(id: string): Promise<boolean> {
  try {
    return (await (await engine()).getContainer(id).inspect({ abortSignal: AbortSignal.timeout(10_000) })).State.Running;
  } catch (e) {
    if (statusOf(e) !== undefined) return false;
    throw e;
  }
}

/**
 * Remove the recorded containers and any other carrying our label (one created just before a
 * crash, before its id was recorded), with their anonymous volumes. Returns how many went.
 */
export async function removeContainers(ids: string[], tag: string): Promise<number> {
  const all = [...new Set([...ids, ...(await labelledContainers(tag))])];
  const docker = await engine();
  const timeoutMs = 60_000;
  let removed = 0;
  for (const id of all) {
    try {
      await docker.getContainer(id).remove({ force: true, v: true, abortSignal: AbortSignal.timeout(timeoutMs) });
      removed++;
    } catch (e) {
      if (statusOf(e) !== 404) throw new Error(`removing container ${id} failed: ${reasonOf(e, timeoutMs)}`);
    }
  }
  return removed;
}

/** The named volume a data server keeps its data in (containers mode), as compose names them: kept by `down`, removed by `down --volumes`. */
export const volumeName = (tag: string, component: string): string => `${tag}-${component}-data`;

/** Create our volume, labelled with the tag, unless it exists; true when it was there already (kept data). */
export async function ensureVolume(name: string, tag: string): Promise<boolean> {
  const docker = await engine();
  const timeoutMs = 10_000;
  try {
    const v = await docker.getVolume(name).inspect({ abortSignal: AbortSignal.timeout(timeoutMs) });
    if (v.Labels?.[LABEL] !== tag) throw new Error(`the volume ${name} exists and is not ours (label ${labelFilter(tag)}): remove or rename it`);
    return true;
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  await docker.createVolume({ Name: name, Labels: { [LABEL]: tag }, abortSignal: AbortSignal.timeout(timeoutMs) });
  return false;
}

/** Does our volume exist (kept data from an earlier run)? */
export async function volumeKept(name: string, tag: string): Promise<boolean> {
  try {
    const v = await (await engine()).getVolume(name).inspect({ abortSignal: AbortSignal.timeout(10_000) });
    return v.Labels?.[LABEL] === tag;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

/** Remove every volume carrying our label for `tag` (after its containers are gone); returns how many went. */
export async function removeVolumes(tag: string): Promise<number> {
  const docker = await engine();
  const timeoutMs = 30_000;
  const { Volumes } = await docker.listVolumes({ filters: { label: [labelFilter(tag)] }, abortSignal: AbortSignal.timeout(timeoutMs) });
  for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove({ abortSignal: AbortSignal.timeout(timeoutMs) });
  return Volumes?.length ?? 0;
}

/** Progress events of a streamed call (pull, import); the engine reports a failure in the stream itself. */
interface ProgressEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Wait for a streamed call to end, as the docker CLI does: an error event fails it. */
export async function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream, what: string, onProgress?: (e: ProgressEvent) => void): Promise<ProgressEvent[]> {
  const events = await new Promise<ProgressEvent[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: ProgressEvent[]) => (err ? reject(err) : resolve(out)), onProgress),
  );
  const failed = events.find((e) => e.error || e.errorDetail);
  if (failed) throw new Error(`${what} failed: ${failed.errorDetail?.message ?? failed.error}`);
  return events;
}
