/**
 * The container engine as the docker CLI and testcontainers find it, and a dockerode client for
 * it, loaded on first use: ecomnet's containers mode and the grader's discovery both ask it.
 */
import type Dockerode from 'dockerode';

export interface Endpoint {
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

let dockerode: Promise<typeof Dockerode> | undefined;

/**
 * A client for the engine engineEndpoint() names. A socket is given explicitly (dockerode would
 * otherwise prefer ~/.docker/run/docker.sock when DOCKER_HOST is unset); for tcp:// dockerode
 * reads DOCKER_HOST itself, with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as the docker CLI does.
 */
export async function engine(): Promise<Dockerode> {
  const Docker = await (dockerode ??= import('dockerode').then((m) => m.default));
  const { socketPath } = engineEndpoint();
  return new Docker(socketPath ? { socketPath } : undefined);
}
