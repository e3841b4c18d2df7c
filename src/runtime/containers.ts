import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';
import { Wait, type GenericContainer } from 'testcontainers';
import { ORDERS_DATABASE } from '../data/postgres.ts';
import type { DataComponent } from '../topology/types.ts';
import { containerName, ensureVolume, LABEL, volumeName } from './engine.ts';
import { imageFor } from './images.ts';
import { LOG_LIMIT } from './log-keeper.ts';

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

// biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin pattern requires a constructor taking any[].
type Ctor<T> = new (...args: any[]) => T;

/**
 * testcontainers binds published ports on every address and has no option for one; the seed's
 * data layer must answer on the bridge gateway only, so the binding is rewritten just before
 * the container is created, as is its log's bound. The creation hook records the id before the container starts.
 */
function onBridge<B extends Ctor<GenericContainer>>(Base: B, o: DataContainer) {
  return class extends Base {
    protected override async beforeContainerCreated(): Promise<void> {
      const exposed = Object.keys(this.hostConfig.PortBindings ?? {});
      this.hostConfig.PortBindings = Object.fromEntries(exposed.map((p) => [p, [{ HostIp: o.at.host, HostPort: String(o.at.port) }]]));
      // Its log bounded as our own services' are (Docker's json-file log grows without end by default).
      this.hostConfig.LogConfig = { Type: 'json-file', Config: { 'max-size': String(LOG_LIMIT.maxBytes), 'max-file': String(LOG_LIMIT.keep + 1) } };
    }

    protected override async containerCreated(id: string): Promise<void> {
      o.created(id);
    }
  };
}

/**
 * Start PostgreSQL or Redis through the testcontainers modules, published on the bridge
 * gateway as in the seed (`docker run -p 5432:5432 ... postgres:15`). Their default wait
 * strategies probe the published port on localhost, which is deliberately closed, so
 * readiness is the image's own signal here and the caller then checks the published address.
 */
export async function startDataContainer(o: DataContainer): Promise<void> {
  const image = imageFor(o.component);
  const labels = { [LABEL]: o.tag };
  const name = containerName(o.tag, o.component);
  if (o.component === 'postgres') {
    // Its data in a named volume of ours, kept across down and up (the image initialises it only when empty).
    const volume = volumeName(o.tag, o.component);
    await ensureVolume(volume, o.tag);
    const Pg = onBridge(PostgreSqlContainer, o);
    await new Pg(image)
      .withUsername('postgres')
      .withPassword(o.password)
      .withDatabase(ORDERS_DATABASE)
      .withName(name)
      .withLabels(labels)
      .withBindMounts([{ source: volume, target: PGDATA }])
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    return;
  }
  const Redis = onBridge(RedisContainer, o);
  await new Redis(image).withPassword(o.password).withName(name).withLabels(labels).start();
}
