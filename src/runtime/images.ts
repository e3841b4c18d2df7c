import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { priv } from '../host/exec.ts';
import type { DataComponent } from '../topology/types.ts';
import { engine, followProgress, reasonOf, requireEngine, statusOf } from './engine.ts';
import { ENTRYPOINT_FILE, entrypointScript } from './entrypoint.ts';

const roles: DataComponent[] = ['postgres', 'redis'];

/** The official images, as the seed's `docker run ... postgres:15` and users on GitHub expect. */
export const defaultImages: Record<DataComponent, string> = { postgres: 'postgres:15', redis: 'redis:7' };

/** Built here from Debian's packages for hosts that cannot pull; never tagged as the official names. */
export const localImages: Record<DataComponent, string> = { postgres: 'ecomnet-local/postgres:15', redis: 'ecomnet-local/redis:7' };

export const imageEnv = (r: DataComponent): string => `ECOMNET_${r.toUpperCase()}_IMAGE`;

/** The image containers mode runs: ECOMNET_POSTGRES_IMAGE / ECOMNET_REDIS_IMAGE, else the official one. */
export function imageFor(r: DataComponent): string {
  return process.env[imageEnv(r)] || defaultImages[r];
}

/** `docker image inspect NAME` succeeds: the engine has it (404: it has not). */
async function imageExists(name: string): Promise<boolean> {
  try {
    await (await engine()).getImage(name).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    // No answer at all: say which engine was tried and the ways out.
    if (statusOf(e) === undefined) await requireEngine();
    throw new Error(`inspecting image ${name} failed: ${reasonOf(e)}`);
  }
}

/** `docker import --change C... TARBALL NAME`: a rootfs tarball as image NAME, with Dockerfile instructions applied. */
async function importImage(tarball: string, name: string, change: string[]): Promise<void> {
  const [, repo, tag = 'latest'] = /^(.+?)(?::([\w][\w.-]*))?$/.exec(name)!;
  const docker = await engine();
  const stream = await docker.importImage(tarball, { repo, tag, changes: change, abortSignal: AbortSignal.timeout(300_000) });
  await followProgress(docker, stream, `importing ${name}`);
}

/** `docker pull NAME`, one line per layer as it completes and the final status. */
async function pullImage(name: string, say: (line: string) => void): Promise<void> {
  const docker = await engine();
  const timeoutMs = 600_000;
  const stream = await docker.pull(name, { abortSignal: AbortSignal.timeout(timeoutMs) }).catch((e: unknown) => {
    throw new Error(`pulling ${name} failed: ${reasonOf(e, timeoutMs)}`);
  });
  await followProgress(docker, stream, `pulling ${name}`, (e) => {
    if (e.status && (e.status === 'Pull complete' || e.status.startsWith('Status:') || e.status.startsWith('Digest:'))) say(`${name}: ${e.status}`);
  });
}

const common = ['ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `ENTRYPOINT ["${ENTRYPOINT_FILE}"]`];
const changes: Record<DataComponent, string[]> = {
  postgres: [...common, 'ENV PGDATA=/var/lib/postgresql/data', 'EXPOSE 5432', 'CMD ["postgres"]'],
  redis: [...common, 'WORKDIR /data', 'EXPOSE 6379', 'CMD ["redis-server"]'],
};

/**
 * One Debian bookworm rootfs with postgresql-15 and redis-server, imported twice with each
 * image's entrypoint and command. A few minutes; needs root (or sudo), debootstrap and docker.
 */
async function buildLocalImages(say: (line: string) => void): Promise<void> {
  const work = mkdtempSync('/var/tmp/ecomnet-image-');
  const rootfs = join(work, 'rootfs');
  const tarball = join(work, 'rootfs.tar');
  try {
    say(`building ${Object.values(localImages).join(' and ')} from Debian packages (debootstrap, a few minutes)`);
    await priv(['debootstrap', '--variant=minbase', '--include=postgresql-15,redis-server', 'bookworm', rootfs], { timeoutMs: 900_000 });
    // The same entrypoint containers mode copies into any image: the secrets come as files.
    const script = join(work, 'entrypoint.sh');
    writeFileSync(script, entrypointScript, { mode: 0o755, flag: 'wx' });
    await priv(['install', '-m', '0755', script, join(rootfs, ENTRYPOINT_FILE)]);
    // The package's own cluster and apt's caches are dead weight in an image.
    await priv(['rm', '-rf', join(rootfs, 'var/lib/postgresql/15'), join(rootfs, 'etc/postgresql/15'), join(rootfs, 'var/cache/apt/archives'), join(rootfs, 'var/lib/apt/lists')]);
    await priv(['tar', '-C', rootfs, '--numeric-owner', '-cf', tarball, '.']);
    for (const r of roles) await importImage(tarball, localImages[r], changes[r]);
  } finally {
    await priv(['rm', '-rf', work]);
  }
}

/** The official image, when the engine already has it. */
const officialHere = async (r: DataComponent): Promise<string | undefined> => ((await imageExists(defaultImages[r])) ? defaultImages[r] : undefined);

/**
 * Images a host that cannot pull can run, for the suites and CI: an ECOMNET_*_IMAGE that is
 * set is used as given; otherwise the official image if it is already here, else the local
 * build (made once per machine). Never pulls. Sets the variables for this process and its children.
 */
export async function ensureImages(say: (line: string) => void): Promise<Record<DataComponent, string>> {
  const chosen = {} as Record<DataComponent, string>;
  for (const r of roles) chosen[r] = process.env[imageEnv(r)] || ((await officialHere(r)) ?? localImages[r]);
  const missing = roles.filter((r) => chosen[r] === localImages[r]);
  if (missing.length && !(await Promise.all(missing.map((r) => imageExists(localImages[r])))).every(Boolean)) await buildLocalImages(say);
  for (const r of roles) process.env[imageEnv(r)] = chosen[r];
  return chosen;
}

/**
 * `ecomnet up --data containers`: an ECOMNET_*_IMAGE as given, else the official image if it is
 * here, else the local build if it is here, so an up never pulls what this host already has.
 * With neither, the official image is pulled (as `docker compose up` would), said first with the
 * way to build instead. Sets the variables for this process and its children.
 */
export async function chooseImages(say: (line: string) => void): Promise<void> {
  for (const r of roles) {
    if (process.env[imageEnv(r)]) continue;
    const here = (await officialHere(r)) ?? ((await imageExists(localImages[r])) ? localImages[r] : undefined);
    if (!here) say(`${defaultImages[r]} is not on this host: pulling it from Docker Hub (where that cannot be reached, \`node src/runtime/images.ts\` builds ${localImages[r]} from Debian packages)`);
    process.env[imageEnv(r)] = here ?? defaultImages[r];
  }
}

/**
 * `node src/runtime/images.ts`: make sure usable images exist and print the variables, for
 * `eval` in CI. `--pull`: pull the official images, on hosts that can reach Docker Hub.
 */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--pull')) {
    await requireEngine();
    for (const r of roles) await pullImage(defaultImages[r], (l) => console.error(l));
  } else {
    const chosen = await ensureImages((l) => console.error(l));
    for (const r of roles) console.log(`export ${imageEnv(r)}=${chosen[r]}`);
  }
}
