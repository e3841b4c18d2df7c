/**
 * Read the live host into a HostModel, with the tools a person would use and nothing of
 * ecomnet's own (no plan, no state file, no topology): any build of the lab reads the same.
 * Read-only throughout: `ip ... show`/`list-id`, `ss`, `ip netns pids`, /proc, iptables-save and
 * the engine's container list.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { priv, type RunResult } from '../host/exec.ts';
import { detectBackend, save } from '../host/iptables.ts';
import { listNamespaces } from '../host/links.ts';
import { engine, engineEndpoint } from '../host/engine.ts';
import type { Container, HostModel, Link, Listener, Process, Route } from './model.ts';

/** The sysctls the seed's tasks set (1.3's ip_forward) or that decide whether bridged hops pass iptables. */
export const SYSCTL_KEYS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'] as const;

/** A namespace's raw reads; `ns` undefined is the host. */
interface RawNs {
  ns?: string;
  links: IpLink[];
  routes: IpRoute[];
  /** netnsid -> namespace name, as seen from this namespace. */
  ids: Map<number, string>;
  sockets: string;
  pids: number[];
}

/** The fields of `ip -j -d addr show` this module reads. */
interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  operstate: string;
  link_type: string;
  master?: string;
  /** The peer's name when it lives in the same namespace. */
  link?: string | null;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

const SECTIONS = ['ip', 'sockets', 'pids'] as const;
type Section = (typeof SECTIONS)[number];
const MARK = '--ecomnet-grader--';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The reads of one namespace as one shell script: a launch from Node costs far more than one
 * from sh, so each namespace is one privileged process, and the namespaces run side by side.
 * Links, routes and netns ids come from one `ip -batch`; `ss -N` enters the namespace without
 * the mount namespace `ip netns exec` sets up (measured: a pass over the platform a fifth quicker).
 */
function readScript(ns?: string): string {
  const q = ns === undefined ? undefined : quote(ns);
  const commands: Record<Section, string> = {
    ip: `printf 'addr show\\nroute show\\nnetns list-id\\n' | ip${q ? ` -n ${q}` : ''} -j -d -force -batch -`,
    sockets: `ss${q ? ` -N ${q}` : ''} -Htulnp`,
    pids: q ? `ip netns pids ${q}` : 'true',
  };
  return SECTIONS.map((s) => `echo ${MARK}${s}; ${commands[s]}`).join('\n');
}

/** The script's output cut back into its sections; a section whose command failed is empty. */
export function splitSections(stdout: string): Record<Section, string> {
  const out = Object.fromEntries(SECTIONS.map((s) => [s, ''])) as Record<Section, string>;
  for (const part of stdout.split(MARK).slice(1)) {
    const nl = part.indexOf('\n');
    const name = (nl < 0 ? part : part.slice(0, nl)) as Section;
    if (name in out) out[name] = nl < 0 ? '' : part.slice(nl + 1);
  }
  return out;
}

/** The batch's JSON lines told apart by what their entries hold; a failed command prints none, an empty list says nothing. */
export function ipSections(text: string): { links: IpLink[]; routes: IpRoute[]; ids: { nsid: number; name?: string }[] } {
  const lists = text
    .split('\n')
    .filter((l) => l.startsWith('['))
    .map((l) => JSON.parse(l) as Record<string, unknown>[]);
  const holding = <T>(key: string) => (lists.find((l) => l[0] && key in l[0]) ?? []) as T[];
  return { links: holding<IpLink>('ifindex'), routes: holding<IpRoute>('dst'), ids: holding<{ nsid: number; name?: string }>('nsid') };
}

/** `ss -Htulnp` lines: `tcp LISTEN 0 511 10.0.0.10:80 0.0.0.0:* users:(("nginx",pid=12,fd=6),...)`. */
export function parseSockets(text: string): Listener[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => (f[0] === 'tcp' || f[0] === 'udp') && f[4])
    .map((f) => {
      const local = f[4]!;
      const colon = local.lastIndexOf(':');
      // `[::]:80` and `10.0.0.1%br-app:53`: the address without brackets or the bound device.
      const address = local
        .slice(0, colon)
        .replace(/^\[(.*)\]$/, '$1')
        .replace(/%.*$/, '');
      const user = /\("([^"]*)",pid=(\d+)/.exec(f.slice(6).join(' '));
      return { proto: f[0] as Listener['proto'], address, port: Number(local.slice(colon + 1)), ...(user ? { pid: Number(user[2]), process: user[1] } : {}) };
    });
}

/** Where the reads that built a model are kept as evidence: each command line with what it printed. */
export type Recorder = (c: RunResult & { at: string }) => void;

async function readNs(ns: string | undefined, record?: Recorder): Promise<RawNs> {
  const at = new Date().toISOString();
  const r = await priv(['sh', '-c', readScript(ns)], { allowFail: true });
  record?.({ ...r, command: `sh -c ${quote(readScript(ns))}`, at });
  const s = splitSections(r.stdout);
  const { links, routes, ids } = ipSections(s.ip);
  return {
    ns,
    links,
    routes,
    ids: new Map(ids.flatMap((i) => (i.name ? [[i.nsid, i.name] as const] : []))),
    sockets: s.sockets,
    pids: s.pids.split(/\s+/).filter(Boolean).map(Number),
  };
}

/**
 * A veth's other end: in the namespace its netnsid names (as seen from `from`), or, when that id
 * has no name, on the host if a host veth points back at it; undefined when neither holds (a
 * container's namespace, say).
 */
function peerOf(link: IpLink, from: RawNs, all: RawNs[]): Link['peer'] {
  if (link.link_netnsid === undefined) return link.link ? { namespace: from.ns, name: link.link } : undefined;
  const nsName = from.ids.get(link.link_netnsid);
  if (nsName !== undefined) {
    const peer = all.find((r) => r.ns === nsName)?.links.find((l) => l.ifindex === link.link_index);
    return peer ? { namespace: nsName, name: peer.ifname } : undefined;
  }
  // The host has no name in /run/netns: an unnamed id is the host only if a host veth points back.
  const host = all.find((r) => r.ns === undefined);
  if (from.ns === undefined || !host) return undefined;
  const peer = host.links.find((l) => l.ifindex === link.link_index && l.link_index === link.ifindex && host.ids.get(l.link_netnsid ?? -1) === from.ns);
  return peer ? { name: peer.ifname } : undefined;
}

function toLink(l: IpLink, from: RawNs, all: RawNs[]): Link {
  const peer = l.linkinfo?.info_kind === 'veth' ? peerOf(l, from, all) : undefined;
  return {
    name: l.ifname,
    kind: l.linkinfo?.info_kind ?? l.link_type,
    up: l.flags.includes('UP'),
    operstate: l.operstate,
    ...(l.master ? { master: l.master } : {}),
    addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ ip: a.local, prefix: a.prefixlen })),
    ...(peer ? { peer } : {}),
  };
}

const toRoute = (r: IpRoute): Route => ({ dst: r.dst, ...(r.gateway ? { via: r.gateway } : {}), ...(r.dev ? { dev: r.dev } : {}) });

/** comm and argv of a pid; undefined when it exited meanwhile (or /proc hides it). */
async function readProcess(pid: number): Promise<Process | undefined> {
  try {
    const [comm, cmdline] = await Promise.all([readFile(`/proc/${pid}/comm`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    return { pid, comm: comm.trim(), argv: cmdline.split('\0').filter(Boolean) };
  } catch {
    return undefined;
  }
}

/** /proc/sys directly: every key is world-readable, so no process and no privilege. */
async function readSysctls(): Promise<HostModel['sysctl']> {
  const values = await Promise.all(
    SYSCTL_KEYS.map((k) =>
      readFile(`/proc/sys/${k.replaceAll('.', '/')}`, 'utf8').then(
        (v) => v.trim(),
        () => null,
      ),
    ),
  );
  return Object.fromEntries(SYSCTL_KEYS.map((k, i) => [k, values[i]!]));
}

/** The engine may be absent or stuck: the model then says so (undefined) instead of waiting. */
const ENGINE_TIMEOUT_MS = 1500;

async function readContainers(): Promise<Container[] | undefined> {
  const { socketPath } = engineEndpoint();
  // No socket, no engine: skip loading dockerode at all.
  if (socketPath && !existsSync(socketPath)) return undefined;
  try {
    const list = await (await engine()).listContainers({ all: true, abortSignal: AbortSignal.timeout(ENGINE_TIMEOUT_MS) });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      image: c.Image,
      running: c.State === 'running',
      ports: c.Ports.filter((p) => p.PublicPort !== undefined).map((p) => ({ containerPort: p.PrivatePort, hostIp: p.IP ?? '', hostPort: p.PublicPort })),
    }));
  } catch {
    return undefined;
  }
}

async function readIptables(record?: Recorder): Promise<HostModel['iptables']> {
  const b = await detectBackend();
  const at = new Date().toISOString();
  const t0 = performance.now();
  const text = await save(b);
  record?.({ command: b.save, stdout: text, stderr: '', exitCode: 0, durationMs: performance.now() - t0, at });
  return { backend: b.name === 'legacy' ? 'legacy' : 'nft', save: text };
}

/** The live host, read in parallel: every namespace, the rules, the engine and the sysctls at once; each read handed to `record` when given. */
export async function discover(record?: Recorder): Promise<HostModel> {
  // `ip netns list` reads /run/netns; so does listNamespaces, without a process.
  const names = (await listNamespaces()).sort();
  const [raws, iptables, containers, sysctl] = await Promise.all([Promise.all([undefined, ...names].map((n) => readNs(n, record))), readIptables(record), readContainers(), readSysctls()]);
  const [host, ...inside] = raws as [RawNs, ...RawNs[]];
  const links = (r: RawNs) => r.links.map((l) => toLink(l, r, raws));
  const namespaces = await Promise.all(
    inside.map(async (r) => ({
      name: r.ns!,
      links: links(r),
      routes: r.routes.map(toRoute),
      listeners: parseSockets(r.sockets),
      processes: (await Promise.all(r.pids.map(readProcess))).filter((p) => p !== undefined),
    })),
  );
  return {
    at: new Date().toISOString(),
    host: { links: links(host), routes: host.routes.map(toRoute), listeners: parseSockets(host.sockets) },
    namespaces,
    sysctl,
    iptables,
    ...(containers ? { containers } : {}),
  };
}
