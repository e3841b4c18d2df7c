/**
 * Grading a two-host build (course day 6) without a second machine, or two hosts already up:
 * each host's script runs as root in a virtual host of its own, both on one underlay (the
 * two-hosts topology's addresses), and gradeDay6 judges them with the underlay captured on the
 * switch between them; the hosts go when it is done. Or two virtual hosts already running
 * (`ecomnet up --topology two-hosts --virtual-hosts`), named by their PID 1s, are judged as they stand.
 */
import { existsSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isRoot, priv, privPrefix, run } from '../../host/exec.ts';
import { twoHosts } from '../../topology/two-hosts.ts';
import { virtualHostsOf } from '../../vhost/hosts.ts';
import type { VirtualHost } from '../../vhost/vhost.ts';
import type { Credentials } from '../logins.ts';
import { placeScript, runLogged } from '../build.ts';
import { type Day6Result, gradeDay6, type Machine } from './grade.ts';

export interface Day6BuildOptions {
  /** Host A's script and host B's (the same one for both, as learner/day6/host.sh): each run as `SCRIPT a|b THIS_IP OTHER_IP`. */
  scripts: [string, string];
  /** Where each host's build output goes, on this machine. */
  logs: [string, string];
  /** Each build's time limit (default 2 minutes): past it, it is ended and the hosts graded as they stand. */
  timeoutMs?: number;
  /** The logins the seed's checks use (the seed's own otherwise). */
  credentials?: Credentials;
  progress?: (line: string) => void;
}

export interface Day6BuildOutcome {
  result: Day6Result;
  /** Each script's exit code (A, B); null when it was ended at its time limit. */
  buildExits: [number | null, number | null];
}

/** A script as the hosts run it: an absolute path to a file, or an error naming what was given. */
export function buildScript(given: string): string {
  const script = resolve(given);
  if (!existsSync(script) || !statSync(script).isFile()) throw new Error(`${given}: no such build script`);
  return script;
}

export async function gradeDay6Build(o: Day6BuildOptions): Promise<Day6BuildOutcome> {
  const scripts = o.scripts.map(buildScript) as [string, string];
  const say = o.progress ?? (() => {});
  const hosts = twoHosts.hosts!;
  const ips = hosts.list.map((h) => h.underlay);
  const vhs = await virtualHostsOf(hosts);
  try {
    const path = `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    const buildExits = (await Promise.all(
      vhs.map(async (vh, i) => {
        const [role, self, other] = [i === 0 ? 'a' : 'b', ips[i]!, ips[1 - i]!];
        await placeScript(vh, scripts[i]!);
        rmSync(o.logs[i]!, { force: true });
        say(`${hosts.list[i]!.name} (${self}): ${scripts[i]} ${role} ${self} ${other}`);
        return runLogged(vh, ['env', `PATH=${path}`, 'HOME=/root', 'bash', scripts[i]!, role, self, other], dirname(scripts[i]!), o.logs[i]!, o.timeoutMs ?? 120_000);
      }),
    )) as [number | null, number | null];
    say(`built (exit ${buildExits.map((e) => e ?? 'timeout').join(', ')}), grading both hosts`);
    const machines = vhs.map((vh, i) => vhostMachine(hosts.list[i]!.name, vh)) as [Machine, Machine];
    const result = await gradeDay6(...machines, { capture: { prefix: vhs[0]!.lanArgv([]), dev: 'lan0' }, ...(o.credentials ? { seed: { credentials: o.credentials } } : {}) });
    return { result, buildExits };
  } finally {
    await Promise.all(vhs.map((v) => v.destroy()));
  }
}

/** A host as the grader uses it: its evidence shows each command as typed on that host, without the way in (`nsenter -t PID ...`). */
function machine(name: string, argvOf: (argv: string[]) => string[]): Machine {
  return { name, argv: argvOf, exec: async (argv, o) => ({ ...(await run(argvOf(argv), o)), command: argv.join(' ') }) };
}

/** A virtual host as a machine of the lab. */
export const vhostMachine = (name: string, vh: VirtualHost): Machine => machine(name, (argv) => vh.argv(argv));

/** A process's network namespace (`net:[4026...]`): another user's, such as a virtual host's root PID 1, only root may read. */
async function netnsOf(pid: string): Promise<string> {
  if (isRoot || pid === 'self') return readlinkSync(`/proc/${pid}/ns/net`);
  const r = await priv(['readlink', `/proc/${pid}/ns/net`], { allowFail: true });
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/**
 * The machines of two hosts already up, from their PID 1s (`nsenter -t PID`): each a process with
 * a network namespace of its own, neither this process's nor the other's. Throws saying which pid is not.
 */
export async function machinesOfPids(list: string): Promise<[Machine, Machine]> {
  const pids = list.split(',').map((p) => p.trim());
  if (pids.length !== 2) throw new Error(`--hosts ${list}: two pids, host A's and host B's (PID_A,PID_B)`);
  const own = await netnsOf('self');
  const seen = new Set<string>();
  for (const pid of pids) {
    if (!/^[1-9]\d*$/.test(pid)) throw new Error(`--hosts: ${pid || '(empty)'} is not a pid`);
    let ns: string;
    try {
      ns = await netnsOf(pid);
    } catch {
      throw new Error(existsSync(`/proc/${pid}`) ? `--hosts: process ${pid}'s network namespace cannot be read` : `--hosts: no process ${pid}`);
    }
    if (ns === own) throw new Error(`--hosts: process ${pid} is in this machine's network namespace, not a host of its own`);
    if (seen.has(ns)) throw new Error(`--hosts: both pids are in one network namespace (${ns}): two hosts have one each`);
    seen.add(ns);
  }
  return pids.map((pid, i) => machine(twoHosts.hosts!.list[i]!.name, (argv) => [...privPrefix, 'nsenter', '-t', pid, '--net', '--mount', '--pid', '--ipc', '--uts', '--', ...argv])) as [
    Machine,
    Machine,
  ];
}
