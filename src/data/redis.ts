import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNewFile } from '../host/files.ts';
import { redisReadiness } from '../net/readiness.ts';
import { localServer, type LocalServer } from './local.ts';
import { generatePassword } from './password.ts';
import { freePort } from './ports.ts';
import { asUser, chownTo, defaultRunAs } from './privilege.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisConfOptions {
  bind: string;
  port: number;
  password: string;
  /** Working directory (nothing is persisted, but redis needs one). */
  dir: string;
}

// Values go into redis.conf unquoted, so anything that could split a directive is refused.
const SAFE_VALUE = /^[A-Za-z0-9_./:-]+$/;

/** redis.conf: one TCP listener, password required, no persistence, no Unix socket. */
export function redisConf(o: RedisConfOptions): string {
  for (const [name, value] of Object.entries({ bind: o.bind, password: o.password, dir: o.dir })) {
    if (!SAFE_VALUE.test(value)) throw new Error(`redis ${name} contains characters not allowed in redis.conf`);
  }
  return [`bind ${o.bind}`, `port ${o.port}`, 'protected-mode yes', 'save ""', 'appendonly no', `requirepass ${o.password}`, `dir ${o.dir}`, 'daemonize no', 'logfile ""', ''].join('\n');
}

/**
 * Write redis.conf with mode 0600 (it holds the password, which therefore never shows in `ps`),
 * owned by `runAs` so the dropped-privilege server can read it.
 */
export async function writeRedisConf(file: string, o: RedisConfOptions, owner: { runAs?: string; prefix?: string[] } = {}): Promise<void> {
  writeNewFile(file, redisConf(o), 0o600);
  if (owner.runAs) await chownTo(file, owner.runAs, owner.prefix);
}

/** argv running redis-server in the foreground from `configFile`; runAs defaults to `redis` when root. */
export function redisArgv(o: { configFile: string; runAs?: string }): string[] {
  const runAs = 'runAs' in o ? o.runAs : defaultRunAs('redis');
  return [...asUser(runAs), REDIS_SERVER, o.configFile];
}

export interface RedisTarget {
  host: string;
  port: number;
  password: string;
}

export function redisUrl(t: RedisTarget): string {
  return `redis://:${encodeURIComponent(t.password)}@${t.host}:${t.port}`;
}

/** A throwaway redis on 127.0.0.1 and a free port, run as `redis` when we are root. */
export async function startLocalRedis(): Promise<LocalServer> {
  const host = '127.0.0.1';
  const runAs = defaultRunAs('redis');
  const dir = await mkdtemp(join(tmpdir(), 'ecomnet-redis-'));
  const password = generatePassword();
  const port = await freePort();
  const configFile = join(dir, 'redis.conf');
  try {
    if (runAs) await chownTo(dir, runAs);
    await writeRedisConf(configFile, { bind: host, port, password, dir }, { runAs });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const argv = redisArgv({ configFile, runAs });
  const target = { host, port, password };
  return localServer({ dir, argv, ready: () => redisReadiness({ ...target, user: 'default' }).waitUntilReady(), what: 'redis', url: redisUrl(target), ...target, stopSignal: 'SIGTERM' });
}
