/**
 * A virtual host: a network, mount, PID, IPC and UTS namespace that stands in for a whole machine
 * (CNI's testutils.NewNS, taken to a machine). Inside it, `ip netns add` makes namespaces only it
 * sees, iptables and sysctls are its own, /run, /tmp and /dev/shm are private, and /etc, /var,
 * /usr, /opt, /srv, /home and /root are writable copies of the machine's, kept in its memory; the
 * rest of the machine is read-only. Its uplink `eth0` leads to a simulated world inside it (an
 * external client and an internet host on documentation addresses) and nowhere else, so nothing a
 * build sends can leave it. No Docker engine answers inside.
 *
 * Its PID 1 (init.sh) waits on a pipe from the process that made it: when that process closes it
 * or dies, however (kill -9 included), PID 1 exits and the kernel ends everything inside, which
 * frees every namespace, link, rule and mount with it. Nothing is written on the real host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTSIDE } from '../topology/outside.ts';
import { privPrefix, type RunOptions, type RunResult, run } from '../host/exec.ts';
import { check, waitFor } from '../util/wait.ts';

const initScript = fileURLToPath(new URL('./init.sh', import.meta.url));
/** This checkout: the grader runs inside from it. */
const checkout = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
/** What a virtual host has of its own, and so hides: what lives there must be lent to it. */
const PRIVATE = ['/tmp', '/run', '/dev/shm'];
const under = (p: string, d: string) => p === d || p.startsWith(`${d}/`);
/** This checkout and Node, where they live in a place a virtual host hides (a clone in /tmp, say): they stay seen inside, read-only. */
const lent = () => [checkout, dirname(dirname(process.execPath))].filter((p) => PRIVATE.some((d) => under(p, d)));

/** Does a virtual host see `path` as this machine has it (read-only)? Not in the places it has of its own, unless lent. */
export const seenInside = (path: string): boolean => !PRIVATE.some((d) => under(path, d)) || lent().some((l) => under(path, l));

/** The world behind a virtual host's eth0: the grader's outside (documentation addresses, RFC 5737), as verify's probe has it on a real host. */
export const WORLD = {
  /** The host's own address on eth0: where the external client finds port 8080. */
  host: OUTSIDE.host,
  client: { ip: OUTSIDE.client.ip },
  internet: { ip: OUTSIDE.internet.ip, port: OUTSIDE.internet.port },
  /** Inside the host: the world's network namespace, a file `ip netns list` does not show. */
  netns: '/run/.vhost/world',
  uplink: 'eth0',
} as const;

/** Docker's socket where no engine listens: a build that asks for one is told where it is. */
export const NO_DOCKER = 'unix:///run/no-docker-in-a-virtual-host.sock';

export interface VirtualHostOptions {
  /** Said in its hostname after `vhost-PID-N-` (PID: the process that made it, so whose it is can be told from its PID 1's command line). */
  label?: string;
  /** FORWARD's policy; `docker` adds Docker's chains with DROP, as on a GitHub runner. */
  forward?: 'ACCEPT' | 'DROP' | 'docker';
  /** br_netfilter's net.bridge.bridge-nf-call-iptables inside; as the machine's when left out. */
  bridgeNetfilter?: boolean;
  /**
   * The uplink eth0 and the world behind it (default); `false`, a host with only lo and no route
   * out; `lan`, eth0 on the world's LAN with no client, internet host or address (a bare switch
   * for the underlay of joined hosts, see `joinLan`).
   */
  world?: boolean | 'lan';
}

export interface ExecOptions extends RunOptions {
  /** Working directory inside (default: this process's). */
  cwd?: string;
}

let made = 0;
/** Where nginx is, looked up once: it serves the world's internet host. */
let nginxPath: Promise<string> | undefined;

export class VirtualHost {
  /** Its PID 1, as the real host numbers it. */
  readonly pid: number;
  readonly name: string;
  private readonly init: ChildProcess;
  private readonly exited: Promise<void>;
  /** Hosts joined to this one's LAN so far: each has a port of its own there. */
  #joined = 0;

  private constructor(pid: number, name: string, init: ChildProcess) {
    this.pid = pid;
    this.name = name;
    this.init = init;
    this.exited = new Promise((resolve) => {
      if (init.exitCode !== null || init.signalCode !== null) resolve();
      else init.once('close', () => resolve());
    });
  }

  static async create(o: VirtualHostOptions = {}): Promise<VirtualHost> {
    const name = `vhost-${process.pid}-${++made}${o.label ? `-${o.label}` : ''}`.slice(0, 63);
    nginxPath ??= run(['sh', '-c', 'command -v nginx'], { allowFail: true }).then((r) => r.stdout.trim() || '/usr/sbin/nginx');
    const nginx = await nginxPath;
    const forward = o.forward ?? 'ACCEPT';
    const args = [
      name,
      forward === 'docker' ? 'DROP' : forward,
      forward === 'docker' ? '1' : '0',
      o.bridgeNetfilter === undefined ? '-' : o.bridgeNetfilter ? '1' : '0',
      o.world === false ? '0' : o.world === 'lan' ? 'lan' : '1',
      `${WORLD.host.ip}/${WORLD.host.prefix}`,
      `${WORLD.client.ip}/${WORLD.host.prefix}`,
      `${WORLD.internet.ip}/${WORLD.host.prefix}`,
      String(WORLD.internet.port),
      nginx,
      ...lent(),
    ];
    const argv = [...privPrefix, 'unshare', '--net', '--mount', '--pid', '--ipc', '--uts', '--fork', '--kill-child', 'bash', initScript, ...args];
    // stdin is the lifeline: only this process holds its write end.
    const init = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    init.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const ready = await new Promise<boolean>((resolve) => {
      init.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('ready\n')) resolve(true);
      });
      init.once('close', () => resolve(false));
      init.once('error', (e) => {
        err += e.message;
        resolve(false);
      });
    });
    if (!ready) throw new Error(`virtual host ${name} did not start: ${(err || out).trim() || `exit ${init.exitCode}`}${await refused()}`);
    const pid = await innerInit(init.pid!);
    return new VirtualHost(pid, name, init);
  }

  /** argv that runs `argv` inside, as root there (sudo's for a normal user). */
  argv(argv: string[], cwd = process.cwd()): string[] {
    return [...privPrefix, 'nsenter', '-t', String(this.pid), '--net', '--mount', '--pid', '--ipc', '--uts', `--wd=${cwd}`, '--', 'env', `DOCKER_HOST=${NO_DOCKER}`, ...argv];
  }

  /** Run argv inside and wait for it. */
  exec(argv: string[], o: ExecOptions = {}): Promise<RunResult> {
    return run(this.argv(argv, o.cwd), o);
  }

  /** Start argv inside; it ends with the host at the latest. */
  spawn(argv: string[], o: { cwd?: string; stdio?: ('pipe' | 'ignore' | 'inherit' | number)[] } = {}): ChildProcess {
    const full = this.argv(argv, o.cwd);
    return spawn(full[0]!, full.slice(1), { stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'] });
  }

  /** argv that runs `argv` in the world behind eth0 (the external client and the internet host's side). */
  worldArgv(argv: string[]): string[] {
    return ['nsenter', `--net=${WORLD.netns}`, ...argv];
  }

  /**
   * Joins `other` (made with `world: false`) to this host's world LAN, as a second machine on the
   * same switch: its eth0 gets `cidr`, this host's eth0 gets `ownCidr` if given, and with `router`
   * (an address the world takes on the LAN with the first host joined) `other` routes out through it. What crosses the LAN
   * can be captured in the world, between the two (`lanArgv`). `other` goes with this host.
   */
  async joinLan(other: VirtualHost, cidr: string, o: { ownCidr?: string; router?: string } = {}): Promise<void> {
    const port = `wan${++this.#joined}`;
    const first = this.#joined === 1;
    // The world's end of eth0 becomes a port of a bridge, lan0, which takes its addresses: removed
    // secondaries first (removing a primary takes its secondaries), added in their order, so the
    // external client's stays primary, the source of what the world sends (the seed's X-Real-IP).
    const addresses = first ? await this.#worldAddresses() : [];
    const lan = first
      ? [
          'link add lan0 type bridge',
          'link set lan0 up',
          ...[...addresses].reverse().map((a) => `addr del ${a} dev wan0`),
          ...addresses.map((a) => `addr add ${a} dev lan0`),
          'link set wan0 master lan0',
        ]
      : [];
    // Not in this host's PID namespace: `netns PID` names `other` as the real host numbers it.
    await run([...privPrefix, 'nsenter', '-t', String(this.pid), '--mount', '--', 'nsenter', `--net=${WORLD.netns}`, 'ip', '-batch', '-'], {
      input: [
        ...lan,
        `link add ${port} type veth peer name eth0 netns ${other.pid}`,
        `link set ${port} master lan0`,
        `link set ${port} up`,
        ...(o.router && first ? [`addr add ${o.router} dev lan0`] : []),
      ].join('\n'),
    });
    await other.exec(['ip', '-batch', '-'], {
      input: [`addr add ${cidr} dev eth0`, 'link set eth0 up', ...(o.router ? [`route add default via ${o.router.split('/')[0]}`] : [])].join('\n'),
    });
    if (o.ownCidr) await this.exec(['ip', 'addr', 'add', o.ownCidr, 'dev', 'eth0']);
    // A port forwards once the kernel has seen its carrier (linkwatch, asynchronous): until then the LAN drops what crosses it.
    await waitFor(
      async () => {
        const r = await run(this.lanArgv(['bridge', '-j', 'link', 'show']));
        const ports = JSON.parse(r.stdout || '[]') as { ifname: string; state: string }[];
        check(ports.length === this.#joined + 1 && ports.every((p) => p.state === 'forwarding'), r.stdout);
      },
      { what: `the LAN of ${this.name} to forward`, timeoutMs: 5000, intervalMs: 5 },
    );
  }

  /** The world's addresses on its end of eth0 (CIDR), the external client's and the internet host's. */
  async #worldAddresses(): Promise<string[]> {
    const r = await run(this.lanArgv(['ip', '-j', 'addr', 'show', 'dev', 'wan0']));
    const [link] = JSON.parse(r.stdout) as { addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[];
    return (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  }

  /** argv run on the world's LAN (its switch, lan0): where a capture sees every frame between joined hosts. */
  lanArgv(argv: string[]): string[] {
    return this.argv(['nsenter', `--net=${WORLD.netns}`, ...argv]);
  }

  get alive(): boolean {
    return this.init.exitCode === null && this.init.signalCode === null;
  }

  /** Ends it and everything inside; resolves once its PID 1 has exited. */
  async destroy(): Promise<void> {
    this.init.stdin?.end();
    await this.exited;
  }
}

/** The namespace kinds and filesystems a virtual host needs, each tried alone: `; this kernel refuses ...` naming those that fail, or ''. */
async function refused(): Promise<string> {
  const tries: [string, string[]][] = [
    ['network namespaces', ['unshare', '--net', 'true']],
    ['mount namespaces', ['unshare', '--mount', 'true']],
    ['PID namespaces', ['unshare', '--pid', '--fork', 'true']],
    ['IPC namespaces', ['unshare', '--ipc', 'true']],
    ['UTS namespaces', ['unshare', '--uts', 'true']],
    ['overlay mounts', ['unshare', '--mount', 'sh', '-c', 'd=$(mktemp -d) && mkdir $d/u $d/w $d/m && mount -t overlay o -o lowerdir=/etc,upperdir=$d/u,workdir=$d/w $d/m']],
  ];
  const failed = (await Promise.all(tries.map(async ([what, argv]) => ((await run([...privPrefix, ...argv], { allowFail: true })).exitCode === 0 ? [] : [what])))).flat();
  return failed.length
    ? `; this machine refuses ${failed.join(', ')}: builds cannot be graded in virtual hosts here (\`ecomnet verify --build\`, \`ecomnet grade\`, the mutation suite); grade a build on the machine itself instead: \`sudo bash build.sh && npx ecomnet verify\``
    : '';
}

/**
 * PID 1 of the host: unshare's child, under sudo's when sudo is there. Read from /proc: the
 * first child of each process down from the one spawned.
 */
async function innerInit(spawned: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const childOf = async (pid: number) => {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const first = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : undefined;
  };
  let pid = spawned;
  for (let depth = 0; depth < 4; depth++) {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'bash') return pid;
    const next = await childOf(pid);
    if (next === undefined) break;
    pid = next;
  }
  throw new Error(`the virtual host's init was not found under pid ${spawned}`);
}
