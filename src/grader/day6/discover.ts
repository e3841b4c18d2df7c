/**
 * What each host of a two-host build has, read live (never from src/topology): its VXLAN devices,
 * its underlay addresses, its namespaces with their addresses and MTUs, and its iptables rules.
 * The machines are anything that runs argv as root there: a virtual host, or local exec and ssh.
 */
import type { RunOptions, RunResult } from '../../host/exec.ts';
import { parseVxlans, type Vxlan } from '../../net/vxlan.ts';

export interface Machine {
  name: string;
  exec(argv: string[], o?: RunOptions): Promise<RunResult>;
  /** argv that runs `argv` as root there (what exec runs). */
  argv(argv: string[]): string[];
}

/** What the grader ran, as a person would have seen it (trimmed, so a result stays small). */
export interface Evidence {
  host: string;
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const evidenceOf = (host: string, r: RunResult): Evidence => ({
  host,
  command: r.command,
  exitCode: r.exitCode,
  stdout: r.stdout.length > 4000 ? `${r.stdout.slice(0, 4000)}…` : r.stdout,
  stderr: r.stderr.length > 1000 ? `${r.stderr.slice(0, 1000)}…` : r.stderr,
});

export type { Vxlan };

export interface NsLink {
  ifname: string;
  mtu: number;
  addresses: string[];
}

export interface HostState {
  name: string;
  vxlans: Vxlan[];
  /** IPv4 addresses of the underlay device (the course's eth0). */
  underlay: string[];
  /** The root namespace's IPv4 addresses by device (bridges included). */
  rootAddresses: { ifname: string; address: string }[];
  /** Each namespace's links, and its TCP listeners as `ss` prints their local address (`10.0.0.60:5432`, `127.0.0.1:5432`, `*:6379`). */
  namespaces: { name: string; links: NsLink[]; listening: string[] }[];
  /** `iptables-save` lines that drop or reject UDP to a VXLAN port. */
  udpDrops: string[];
  evidence: Evidence[];
}

interface IpLink {
  ifname: string;
  mtu: number;
  master?: string;
  flags?: string[];
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; remote?: string; link?: string } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

const json = <T>(s: string): T[] => {
  try {
    return JSON.parse(s || '[]') as T[];
  } catch {
    return [];
  }
};

const v4 = (l: IpLink) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local);

/** An iptables-save rule that drops or rejects UDP to one of `ports`. */
export function dropsUdpTo(line: string, ports: number[]): boolean {
  if (!line.startsWith('-A ') || !/ -j (DROP|REJECT)\b/.test(line) || !/ -p udp\b/.test(line)) return false;
  const m = / --dports? (\S+)/.exec(line);
  if (!m) return true;
  return m[1]!.split(',').some((p) => {
    const [lo, hi] = p.split(':').map(Number);
    return ports.some((x) => x >= lo! && x <= (hi ?? lo!));
  });
}

/** `ss -Hltn` output to its listeners' local addresses. */
export const listenersOf = (out: string): string[] => out.split('\n').flatMap((l) => (l.trim() ? [l.trim().split(/\s+/)[3] ?? ''] : []));

export async function discoverHost(m: Machine, vxlanPorts: number[]): Promise<HostState> {
  const evidence: Evidence[] = [];
  const ex = async (argv: string[]) => {
    const r = await m.exec(argv, { allowFail: true, timeoutMs: 10_000 });
    evidence.push(evidenceOf(m.name, r));
    return r;
  };
  const [vx, root, netns, rules] = await Promise.all([
    ex(['ip', '-j', '-d', 'link', 'show', 'type', 'vxlan']),
    ex(['ip', '-j', 'addr', 'show']),
    ex(['ip', '-j', 'netns', 'list']),
    ex(['iptables-save']),
  ]);
  const links = json<IpLink>(root.stdout);
  const vxlans = parseVxlans(vx.stdout);
  const underlayDevs = new Set(vxlans.flatMap((x) => (x.dev ? [x.dev] : [])));
  if (underlayDevs.size === 0) underlayDevs.add('eth0');
  const names = json<{ name: string }>(netns.stdout).map((n) => n.name);
  const namespaces = await Promise.all(
    names.map(async (name) => {
      const [r, ss] = await Promise.all([ex(['ip', '-n', name, '-j', 'addr', 'show']), ex(['ip', 'netns', 'exec', name, 'ss', '-Hltn'])]);
      return {
        name,
        links: json<IpLink>(r.stdout)
          .filter((l) => l.ifname !== 'lo')
          .map((l) => ({ ifname: l.ifname, mtu: l.mtu, addresses: v4(l) })),
        listening: listenersOf(ss.stdout),
      };
    }),
  );
  const ports = [...new Set([...vxlanPorts, ...vxlans.flatMap((x) => (x.port ? [x.port] : []))])];
  return {
    name: m.name,
    vxlans,
    underlay: links.filter((l) => underlayDevs.has(l.ifname)).flatMap(v4),
    rootAddresses: links.flatMap((l) => v4(l).map((address) => ({ ifname: l.ifname, address }))),
    namespaces,
    udpDrops: rules.stdout.split('\n').filter((l) => dropsUdpTo(l, ports)),
    evidence,
  };
}
