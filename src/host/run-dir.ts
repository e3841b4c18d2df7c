import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, priv } from './exec.ts';

/**
 * Every path under a platform's run directory, named here and nowhere else. /run by default,
 * so a reboot forgets it with the namespaces; a second platform (tests, bench) has its own.
 */
export interface RunDir {
  root: string;
  /** Everything we changed on the host, written before each change. */
  state: string;
  /** One platform per run directory at a time. */
  lock: string;
  /** The run's passwords. */
  secrets: string;
  /** The services' logs and pid files; kept after `down` for a post-mortem, until the next `up`. */
  logs: string;
  config: string;
  postgresData: string;
  redisData: string;
  /** nginx's pid, temp files and generated configuration. */
  nginx: string;
  nginxConf: string;
  /** What `ecomnet verify` added to reach a build from outside, written before it adds it. */
  probe: string;
  /** Node's compile cache for the services: kept across runs (it only speeds start-up). */
  compileCache: string;
  /** What `down` removes besides logs: data, configs, secrets. */
  runFiles: string[];
  log(name: string): string;
  pidFile(name: string): string;
  configFile(name: string): string;
}

/** ECOMNET_RUN_DIR, read when asked (not when a module loads), else /run/ecomnet. */
export const defaultRunDirPath = (): string => process.env.ECOMNET_RUN_DIR ?? '/run/ecomnet';

export function runDirAt(root: string = defaultRunDirPath()): RunDir {
  const logs = join(root, 'logs');
  const config = join(root, 'config');
  const at = {
    root,
    state: join(root, 'state.json'),
    lock: join(root, 'lock'),
    secrets: join(root, 'secrets.json'),
    logs,
    config,
    postgresData: join(root, 'postgres'),
    redisData: join(root, 'redis'),
    nginx: join(root, 'nginx'),
    nginxConf: join(root, 'nginx', 'nginx.conf'),
    compileCache: join(root, 'node-cache'),
    probe: join(root, 'probe.json'),
  };
  return {
    ...at,
    runFiles: [at.postgresData, at.redisData, at.config, at.nginx, at.secrets],
    log: (name) => join(logs, `${name}.log`),
    pidFile: (name) => join(logs, `${name}.pid`),
    configFile: (name) => join(config, name),
  };
}

/** The run directory exists and this process may write it (as root, or owned by the sudo user). */
export async function ensureRunDir(d: RunDir): Promise<void> {
  if (existsSync(d.root) && (isRoot || writable(d.root))) return;
  if (isRoot) mkdirSync(d.root, { recursive: true, mode: 0o755 });
  else await priv(['install', '-d', '-m', '0755', '-o', String(process.getuid!()), d.root]);
}

function writable(dir: string): boolean {
  try {
    const probe = join(dir, `.probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}
