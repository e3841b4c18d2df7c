import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Topology } from '../topology/types.ts';
import { type TopologyError, validate } from '../topology/validate.ts';
import { isRoot, priv, run } from './exec.ts';
import { hostRoutes } from './facts.ts';

/** A tool the platform runs, and the Debian/Ubuntu package that brings it. */
interface Requirement {
  tool: string;
  pkg: string;
  scope: 'network' | 'services';
}

export const requirements: Requirement[] = [
  { tool: 'ip', pkg: 'iproute2', scope: 'network' },
  { tool: 'ss', pkg: 'iproute2', scope: 'network' },
  { tool: 'iptables', pkg: 'iptables', scope: 'network' },
  { tool: 'iptables-save', pkg: 'iptables', scope: 'network' },
  { tool: 'iptables-restore', pkg: 'iptables', scope: 'network' },
  { tool: 'sysctl', pkg: 'procps', scope: 'network' },
  { tool: 'setpriv', pkg: 'util-linux', scope: 'network' },
  { tool: 'ping', pkg: 'iputils-ping', scope: 'network' },
  { tool: 'curl', pkg: 'curl', scope: 'network' },
  { tool: 'nc', pkg: 'netcat-openbsd', scope: 'network' },
  { tool: 'taskset', pkg: 'util-linux', scope: 'services' },
  { tool: 'useradd', pkg: 'passwd', scope: 'services' },
  { tool: 'userdel', pkg: 'passwd', scope: 'services' },
  { tool: 'nginx', pkg: 'nginx', scope: 'services' },
  { tool: 'redis-server', pkg: 'redis-server', scope: 'services' },
  { tool: 'redis-cli', pkg: 'redis-tools', scope: 'services' },
  { tool: 'psql', pkg: 'postgresql-client', scope: 'services' },
];

const searchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function which(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...searchPath];
  return dirs.map((d) => `${d}/${tool}`).find((p) => existsSync(p));
}

/** Debian's postgresql-NN packages keep initdb/postgres off PATH. */
export function postgresBin(): string | undefined {
  for (const v of ['17', '16', '15']) if (existsSync(`/usr/lib/postgresql/${v}/bin/postgres`)) return `/usr/lib/postgresql/${v}/bin`;
  const onPath = which('postgres');
  return onPath ? onPath.slice(0, -'/postgres'.length) : undefined;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export function missingPackages(scope: 'network' | 'services'): string[] {
  const wanted = requirements.filter((r) => r.scope === 'network' || scope === 'services');
  const pkgs = wanted.filter((r) => !which(r.tool)).map((r) => r.pkg);
  if (scope === 'services' && !postgresBin()) pkgs.push('postgresql');
  return [...new Set(pkgs)];
}

function isDebianLike(): boolean {
  try {
    return /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Preflight of `up`: on Debian or Ubuntu, with privileges, install what is missing (announced
 * first); elsewhere, say exactly what to install.
 */
export async function ensurePackages(scope: 'network' | 'services', say: (line: string) => void): Promise<void> {
  await installPackages(missingPackages(scope), 'the platform', say);
}

/** The seed's Python modules, as a learner's Flask services import them, and Debian's packages for them. */
const PYTHON_MODULES: Record<string, string> = { flask: 'python3-flask', redis: 'python3-redis', psycopg2: 'python3-psycopg2', requests: 'python3-requests' };

/** The packages of the seed's Flask services that Debian's python3 lacks (learner/build.sh runs them). */
export async function missingLearnerPackages(): Promise<string[]> {
  const r = await run(['/usr/bin/python3', '-c', `import importlib.util as u; print(" ".join(m for m in ${JSON.stringify(Object.keys(PYTHON_MODULES))} if not u.find_spec(m)))`], { allowFail: true });
  if (r.exitCode !== 0) return ['python3', ...Object.values(PYTHON_MODULES)];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map((m) => PYTHON_MODULES[m]!);
}

/** On Debian or Ubuntu, with privileges, install `missing` (announced first, saying for `what`); elsewhere, say exactly what to install. */
export async function installPackages(missing: string[], what: string, say: (line: string) => void): Promise<void> {
  if (!missing.length) return;
  if (!isDebianLike()) throw new Error(`missing tools; install the packages that provide: ${missing.join(' ')} (see \`ecomnet doctor\`)`);
  say(`preflight: installing ${missing.join(' ')} with apt-get (needed by ${what})`);
  const env = { DEBIAN_FRONTEND: 'noninteractive', PATH: process.env.PATH ?? '' };
  const install = () => priv(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', ...missing], { allowFail: true, env, timeoutMs: 600_000 });
  let r = await install();
  if (r.exitCode !== 0) {
    await priv(['apt-get', 'update', '-qq'], { allowFail: true, timeoutMs: 300_000 });
    r = await install();
  }
  if (r.exitCode !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
}

async function privileges(): Promise<Check> {
  if (isRoot) return { name: 'privileges', ok: true, detail: 'running as root' };
  const r = await run(['sudo', '-n', 'true'], { allowFail: true });
  return r.exitCode === 0
    ? { name: 'privileges', ok: true, detail: 'passwordless sudo works; privileged commands go through sudo -n' }
    : { name: 'privileges', ok: false, detail: 'not root and `sudo -n true` fails: run as root or grant passwordless sudo' };
}

function readOr(path: string, decode?: (b: Buffer) => Buffer): string {
  try {
    const b = readFileSync(path);
    return (decode ? decode(b) : b).toString('utf8');
  } catch {
    return '';
  }
}

/** Loaded, built in, or available as a module: any one of the kernel's own records says so. */
function kernelHas(module: string, config: string): boolean {
  const release = readOr('/proc/sys/kernel/osrelease').trim();
  if (existsSync(`/sys/module/${module}`)) return true;
  if (readOr(`/lib/modules/${release}/modules.builtin`).includes(`/${module}.ko`)) return true;
  if (readOr(`/lib/modules/${release}/modules.dep`).includes(`/${module}.ko`)) return true;
  return new RegExp(`^${config}=[ym]$`, 'm').test(readOr('/proc/config.gz', gunzipSync) || readOr(`/boot/config-${release}`));
}

function kernel(): Check[] {
  const has = (p: string) => existsSync(p);
  return [
    { name: 'network namespaces', ok: has('/proc/self/ns/net'), detail: '/proc/self/ns/net' },
    { name: 'IPv4 forwarding', ok: has('/proc/sys/net/ipv4/ip_forward'), detail: '/proc/sys/net/ipv4/ip_forward' },
    { name: 'bridge', ok: kernelHas('bridge', 'CONFIG_BRIDGE'), detail: has('/proc/sys/net/bridge') ? 'br_netfilter loaded: bridged traffic passes iptables FORWARD' : 'available' },
    { name: 'veth', ok: kernelHas('veth', 'CONFIG_VETH'), detail: 'virtual ethernet pairs' },
  ];
}

async function portFree(port: number): Promise<Check> {
  const r = await run(['ss', '-Hltn', `sport = :${port}`], { allowFail: true });
  const used = r.stdout.trim();
  return { name: `host port ${port}`, ok: !used, detail: used ? `something listens on ${port}: ${used.split('\n')[0]}` : 'free' };
}

async function subnetFree(t: Topology): Promise<Check> {
  const ours = new Set([t.app.bridge.name, t.outside.bridge.name]);
  try {
    validate(
      t,
      (await hostRoutes()).filter((r) => !r.dev || !ours.has(r.dev)),
    );
    return { name: 'subnets', ok: true, detail: `${t.app.subnet} and ${t.outside.subnet} overlap no host route` };
  } catch (e) {
    return { name: 'subnets', ok: false, detail: (e as TopologyError).problems?.join('; ') ?? (e as Error).message };
  }
}

export async function doctor(t: Topology): Promise<Check[]> {
  const tools: Check[] = requirements.map((r) => {
    const at = which(r.tool);
    return { name: `tool ${r.tool}`, ok: Boolean(at), detail: at ?? `missing: apt-get install ${r.pkg}` };
  });
  const pg = postgresBin();
  tools.push({ name: 'tool postgres', ok: Boolean(pg), detail: pg ?? 'missing: apt-get install postgresql' });
  return [await privileges(), ...kernel(), ...tools, ...(await Promise.all(t.portForwards.map((pf) => portFree(pf.hostPort)))), await subnetFree(t)];
}
