import { request } from 'node:http';

/**
 * Just enough of the Docker Engine API for preflight and teardown, without loading
 * testcontainers: `down` must work (and be quick) whatever happened to the `up` that started them.
 */

/** Every container of ours carries it, with the topology's tag as value. */
export const LABEL = 'ecomnet.tag';

export const labelFilter = (tag: string): string => `${LABEL}=${tag}`;

/** Names say whose and what they are in `docker ps`: ecomnet-postgres. */
export const containerName = (tag: string, component: string): string => `${tag}-${component}`;

interface Endpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  /** As the user would write it (DOCKER_HOST syntax). */
  shown: string;
}

/** Where the engine is, the way the docker CLI and testcontainers find it: DOCKER_HOST, else the default socket. */
export function engineEndpoint(): Endpoint {
  const h = process.env.DOCKER_HOST;
  if (!h) return { socketPath: '/var/run/docker.sock', shown: 'unix:///var/run/docker.sock' };
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length), shown: h };
  const u = new URL(h.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port), shown: h };
}

function call(method: string, path: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const { socketPath, host, port } = engineEndpoint();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, host, port, method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Fail at once, before anything is created, when containers mode has no engine to talk to. */
export async function requireEngine(): Promise<void> {
  const { shown } = engineEndpoint();
  let reason: string;
  try {
    const r = await call('GET', '/_ping', 3000);
    if (r.status === 200) return;
    reason = `it answered ${r.status} ${r.body.trim()}`;
  } catch (e) {
    reason = (e as Error).message;
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
  const filters = encodeURIComponent(JSON.stringify({ label: [labelFilter(tag)] }));
  const r = await call('GET', `/containers/json?all=1&filters=${filters}`);
  if (r.status !== 200) throw new Error(`listing containers labelled ${labelFilter(tag)} failed: ${r.status} ${r.body.trim()}`);
  return (JSON.parse(r.body) as { Id: string }[]).map((c) => c.Id);
}

export async function containerRunning(id: string): Promise<boolean> {
  const r = await call('GET', `/containers/${encodeURIComponent(id)}/json`);
  return r.status === 200 && (JSON.parse(r.body) as { State: { Running: boolean } }).State.Running;
}

/**
 * Remove the recorded containers and any other carrying our label (one created just before a
 * crash, before its id was recorded), with their anonymous volumes. Returns how many went.
 */
export async function removeContainers(ids: string[], tag: string): Promise<number> {
  const all = [...new Set([...ids, ...(await labelledContainers(tag))])];
  let removed = 0;
  for (const id of all) {
    const r = await call('DELETE', `/containers/${encodeURIComponent(id)}?force=true&v=true`, 60_000);
    if (r.status === 204) removed++;
    else if (r.status !== 404) throw new Error(`removing container ${id} failed: ${r.status} ${r.body.trim()}`);
  }
  return removed;
}
