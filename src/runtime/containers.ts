import { GenericContainer, Wait } from 'testcontainers';
import { ORDERS_DATABASE } from '../data/postgres.ts';
import { redisConf } from '../data/redis.ts';
import type { DataComponent } from '../topology/types.ts';
import { containerName, ensureVolume, LABEL, volumeName } from './engine.ts';
import { ENTRYPOINT_FILE, entrypointScript, POSTGRES_PASSWORD_FILE, REDIS_CONF_FILE } from './entrypoint.ts';
import { imageFor } from './images.ts';
import { LOG_LIMIT } from './log-keeper.ts';
import { DEFAULT_POLICY } from './restart-policy.ts';

// Ryuk would remove the containers as soon as a detached `up` exits (and it cannot be pulled
// everywhere): `down` is our reaper, by recorded id and by label.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

/** Where the postgres images (official and ours, src/runtime/images.ts) keep the cluster. */
const PGDATA = '/var/lib/postgresql/data';

export interface Published {
  host: string;
  port: number;
}

export interface DataContainer {
  component: DataComponent;
  /** The topology's tag: the value of our label and the prefix of the container's name. */
  tag: string;
  at: Published;
  password: string;
  /** Called with the id once the container exists and before it starts, so a crash leaves it on record. */
  created: (id: string) => void;
}

/** A file copied into the container before it starts. */
export interface CopiedFile {
  content: string;
  target: string;
  mode: number;
}

/**
 * Everything the engine is told about a data container. The password is only in a 0600 file
 * copied in before the start; the environment, the command, the entrypoint and the healthcheck,
 * all shown by `docker inspect` and the first two in /proc, hold none.
 */
export interface ContainerSpec {
  image: string;
  name: string;
  labels: Record<string, string>;
  /** The server's port inside the container (the official images' default). */
  port: number;
  entrypoint: string[];
  command: string[];
  env: Record<string, string>;
  files: CopiedFile[];
  /** Exec form, no shell: a readiness probe that needs no password. */
  healthcheck?: ['CMD', ...string[]];
  /** Printed by the server once it accepts connections, when there is no healthcheck. */
  readyLog?: string;
}

export function containerSpec(o: Pick<DataContainer, 'component' | 'tag' | 'password'>): ContainerSpec {
  const common = { image: imageFor(o.component), name: containerName(o.tag, o.component), labels: { [LABEL]: o.tag }, entrypoint: [ENTRYPOINT_FILE] };
  const entrypoint: CopiedFile = { content: entrypointScript, target: ENTRYPOINT_FILE, mode: 0o755 };
  if (o.component === 'postgres') {
    const port = 5432;
    return {
      ...common,
      port,
      command: ['postgres'],
      env: { POSTGRES_USER: 'postgres', POSTGRES_DB: ORDERS_DATABASE },
      files: [entrypoint, { content: `${o.password}\n`, target: POSTGRES_PASSWORD_FILE, mode: 0o600 }],
      // pg_isready asks whether the server accepts connections without logging in.
      healthcheck: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', ORDERS_DATABASE],
    };
  }
  const port = 6379;
  return {
    ...common,
    port,
    command: ['redis-server'],
    env: {},
    files: [entrypoint, { content: redisConf({ bind: '0.0.0.0', port, password: o.password, dir: '/data' }), target: REDIS_CONF_FILE, mode: 0o600 }],
    readyLog: 'Ready to accept connections',
  };
}

/**
 * testcontainers binds published ports on every address and has no option for one; the seed's
 * data layer must answer on the bridge gateway only, so the binding is rewritten just before
 * the container is created, as is its log's bound. The creation hook records the id before the container starts.
 */
class DataServer extends GenericContainer {
  readonly o: DataContainer;

  constructor(image: string, o: DataContainer) {
    super(image);
    this.o = o;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const exposed = Object.keys(this.hostConfig.PortBindings ?? {});
    this.hostConfig.PortBindings = Object.fromEntries(exposed.map((p) => [p, [{ HostIp: this.o.at.host, HostPort: String(this.o.at.port) }]]));
    // The supervisor's policy for the native servers, in Docker's words: a crash (kill -9) restarts it, a crash loop stops.
    this.hostConfig.RestartPolicy = { Name: 'on-failure', MaximumRetryCount: DEFAULT_POLICY.maxRestarts };
    // Its log bounded as our own services' are (Docker's json-file log grows without end by default).
    this.hostConfig.LogConfig = { Type: 'json-file', Config: { 'max-size': String(LOG_LIMIT.maxBytes), 'max-file': String(LOG_LIMIT.keep + 1) } };
  }

  protected override async containerCreated(id: string): Promise<void> {
    this.o.created(id);
  }
}

/**
 * Start PostgreSQL or Redis, published on the bridge gateway as in the seed
 * (`docker run -p 5432:5432 ... postgres:15`). testcontainers' default wait probes the published
 * port on localhost, which is deliberately closed, so readiness is the container's own signal
 * here and the caller then logs in at the published address. Docker restarts a crashed one
 * (restart policy on-failure).
 */
export async function startDataContainer(o: DataContainer): Promise<void> {
  const s = containerSpec(o);
  const c = new DataServer(s.image, o)
    .withName(s.name)
    .withLabels(s.labels)
    .withExposedPorts(s.port)
    .withEntrypoint(s.entrypoint)
    .withCommand(s.command)
    .withEnvironment(s.env)
    .withCopyContentToContainer(s.files);
  if (o.component === 'postgres') {
    // Its data in a named volume of ours, kept across down and up (the entrypoint initialises it only when empty).
    const volume = volumeName(o.tag, o.component);
    await ensureVolume(volume, o.tag);
    c.withBindMounts([{ source: volume, target: PGDATA }]);
  }
  if (s.healthcheck) c.withHealthCheck({ test: s.healthcheck, interval: 250, timeout: 1000, retries: 1000 }).withWaitStrategy(Wait.forHealthCheck());
  else if (s.readyLog) c.withWaitStrategy(Wait.forLogMessage(s.readyLog));
  await c.start();
}
