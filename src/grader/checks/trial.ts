/**
 * What a check of the grader is, and what it works with: a Trial runs one check's commands as a
 * person would type them (privileged, as the seed's `sudo ...`), records each with what it
 * printed and its exit code, and ends in one of three verdicts. A check passes when it returns,
 * fails when one of its expectations does not hold, and is inconclusive when the grader could not
 * judge (a tool or the outside vantage is missing): never a learner's fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { pgpassLine } from '../../data/postgres.ts';
import { priv, privPrefix, run } from '../../host/exec.ts';
import type { Captured } from '../evidence.ts';
import type { Judgement } from '../judge.ts';
import type { Login } from '../logins.ts';
import type { HostModel } from '../model.ts';
import type { LabHost, Split } from '../split.ts';
import type { Vantage } from '../vantage.ts';

export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** The host as the grader found it once, and how it reaches the build: everything a check reads. */
export interface Lab {
  model: HostModel;
  judgement: Judgement;
  /** Where the external client and the internet host are; undefined when the grader could not stand outside. */
  vantage?: Vantage;
  /** Why there is no vantage, for the checks that need one. */
  noVantage?: string;
  pg: Login;
  redis: Login;
  /** The iptables commands of the backend this host uses (iptables-save or iptables-legacy-save). */
  iptables: { save: string; list: string };
  /** Values one check leaves for a later one (the order id the read-back looks for). */
  shared: Map<string, unknown>;
  /** The lab spans several hosts (course day 6): each command runs on the host that holds what it asks about. */
  split?: Split;
}

export interface Check {
  /** Stable and unique: `<deliverable>` or `<deliverable>/<what>`. */
  id: string;
  deliverable: string;
  title: string;
  /** The commands it runs: one missing makes it inconclusive, named. */
  tools: string[];
  /** Runs as the external client or egresses to the internet host. */
  outside?: boolean;
  /** Checks that must have finished first. */
  after?: string[];
  /** Checks with the same lock never run at once (they touch the same keys). */
  lock?: string;
  run(t: Trial): Promise<void>;
}

/** An expectation of the seed's that did not hold: the build's fault. */
export class Failed extends Error {}
/** The grader could not judge: not the build's fault. */
export class Inconclusive extends Error {}

/** A word as a shell reads it back unchanged: bare when plain, else single-quoted. Names read from the host go into command lines only so. */
export const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`);
const shown = (v: unknown) => {
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 400 ? `${text.slice(0, 400)}…` : text;
};

export class Trial {
  readonly evidence: Captured[] = [];
  readonly lab: Lab;

  constructor(lab: Lab) {
    this.lab = lab;
  }

  /** A shell line as a person types it, privileged, on the front host; recorded; never throws on a non-zero exit. */
  sh(command: string, timeoutMs = 20_000): Promise<Captured> {
    return this.on(undefined, command, timeoutMs);
  }

  /**
   * A shell line on `host` (the front when undefined: the only host of an unsplit lab). On a
   * split lab the record is the command as typed there, with the host's name.
   */
  async on(host: LabHost | undefined, command: string, timeoutMs = 20_000): Promise<Captured> {
    const at = new Date().toISOString();
    // --norc: Node's stdio are sockets, which makes bash source ~/.bashrc as if run by rshd.
    const argv = ['bash', '--norc', '--noprofile', '-c', command];
    const where = host ?? this.lab.split?.front;
    if (where) return this.record({ ...(await run(where.argv(argv), { allowFail: true, timeoutMs })), command, at, host: where.name });
    const r = await priv(argv, { allowFail: true, timeoutMs });
    return this.record({ ...r, command: [...privPrefix.filter((p) => p !== '-n'), command].join(' '), at });
  }

  /** The host a namespace is on (undefined: the lab is on one host). */
  hostOf(ns: string): LabHost | undefined {
    return this.lab.split?.of.get(ns);
  }

  /** The hosts to look at for what the lab has in all (the namespaces, the veths): [undefined] for one host. */
  hosts(): (LabHost | undefined)[] {
    return this.lab.split?.hosts ?? [undefined];
  }

  /** `ip netns exec NS CMD`, the seed's way into a namespace, on its host. */
  inNs(ns: string, cmd: string): Promise<Captured> {
    return this.on(this.hostOf(ns), `ip netns exec ${ns} ${cmd}`);
  }

  /** CMD as the external client; inconclusive when the grader has no outside. */
  asClient(cmd: string): Promise<Captured> {
    const v = this.lab.vantage;
    if (!v) throw new Inconclusive(`no external client: ${this.lab.noVantage ?? 'the grader could not stand outside this host'}`);
    return this.sh(v.asClient(cmd));
  }

  /**
   * The seed's `psql -U USER -d DB -h HOST -c QUERY`, as this user: the password (when not the
   * seed's public one) goes in a 0600 file of our own, never a command line or an environment.
   */
  async psql(query: string, ...flags: string[]): Promise<Captured> {
    const l = this.lab.pg;
    const argv = ['psql', '-U', l.user, '-d', l.database ?? 'postgres', '-h', l.host, '-p', String(l.port), '-w', ...flags, '-c', query];
    // libpq waits for ever for a server that does not answer.
    if (l.password === undefined) return this.client(argv, { env: { PGCONNECT_TIMEOUT: '5' } });
    // A virtual host has a /tmp of its own: on a split lab the file goes where every host sees it.
    const dir = mkdtempSync(join(this.lab.split ? '/var/tmp' : tmpdir(), 'ecomnet-pgpass-'));
    try {
      const file = join(dir, 'pgpass');
      writeFileSync(file, pgpassLine(l.user, l.password), { mode: 0o600, flag: 'wx' });
      return await this.client(argv, { env: { PGPASSFILE: file, PGCONNECT_TIMEOUT: '5' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** `redis-cli -h HOST -p PORT ARGS...` (`--askpass`: a password on its standard input). */
  redis(...args: string[]): Promise<Captured> {
    const l = this.lab.redis;
    const at = ['-h', l.host, '-p', String(l.port)];
    // redis-cli waits for ever for a Redis that does not answer (Debian 12's has no -t): 5 s is its time.
    return l.password === undefined
      ? this.client(['redis-cli', ...at, ...args], { timeoutMs: 5000 })
      : this.client(['redis-cli', '--askpass', ...at, ...args], { input: `${l.password}\n`, timeoutMs: 5000 });
  }

  private async client(argv: string[], how: { env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<Captured> {
    const at = new Date().toISOString();
    const env = Object.entries(how.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const command = `${env.map((e) => `${e} `).join('')}${argv.map(shellWord).join(' ')}`;
    const host = this.clientHost(argv);
    if (!host) return this.record({ ...(await run(argv, { allowFail: true, timeoutMs: 20_000, ...how })), command, at });
    const r = await run(host.argv(['env', ...env, ...argv]), { allowFail: true, timeoutMs: how.timeoutMs ?? 20_000, ...(how.input !== undefined ? { input: how.input } : {}) });
    return this.record({ ...r, command, at, host: host.name });
  }

  /** On a split lab, a data client runs on the host of the server it asks (the seed asks from the host that runs it). */
  private clientHost(argv: string[]): LabHost | undefined {
    return this.hostHaving(argv[0] === 'psql' ? this.lab.pg.host : this.lab.redis.host);
  }

  /** On a split lab, the host whose namespace has address `ip` (the front when none has it); undefined on one host. */
  hostHaving(ip: string): LabHost | undefined {
    const split = this.lab.split;
    if (!split) return undefined;
    const holder = this.lab.model.namespaces.find((n) => n.links.some((l) => l.addresses.some((a) => a.ip === ip)));
    return (holder && split.of.get(holder.name)) ?? split.front;
  }

  /** Evidence a check made itself (a command it ran through another way). */
  record(c: Captured): Captured {
    this.evidence.push(c);
    return c;
  }

  /** Fails the check with `why` unless `holds`. */
  ok(holds: unknown, why: string): void {
    if (!holds) throw new Failed(why);
  }

  /** The value, or the check fails with `why` when there is none. */
  some<T>(value: T | undefined | null, why: string): T {
    if (value === undefined || value === null) throw new Failed(why);
    return value;
  }

  equal(actual: unknown, expected: unknown, what: string): void {
    if (!isDeepStrictEqual(actual, expected)) throw new Failed(`${what}: expected ${shown(expected)}, got ${shown(actual)}`);
  }

  match(text: string, re: RegExp, what: string): RegExpExecArray {
    const m = re.exec(text);
    if (!m) throw new Failed(`${what}: ${shown(text.trim() || '(nothing)')} does not match ${re}`);
    return m;
  }

  /** The command exited 0, or the check fails with what it said. */
  succeeded(c: Captured, what: string): void {
    if (c.exitCode !== 0) throw new Failed(`${what}: \`${c.command}\` exited ${c.exitCode}: ${(c.stderr || c.stdout).trim().split('\n').slice(-3).join(' ') || 'no output'}`);
  }

  /** Its standard output as JSON, or the check fails saying what came instead. */
  json(c: Captured, what: string): unknown {
    this.succeeded(c, what);
    try {
      return JSON.parse(c.stdout);
    } catch {
      throw new Failed(`${what}: the answer is not JSON: ${shown(c.stdout.trim().slice(0, 300) || '(empty)')}`);
    }
  }
}

/** What one check came to. */
export interface CheckOutcome {
  check: Check;
  verdict: Verdict;
  /** Why it failed or could not judge. */
  reason?: string;
  evidence: Captured[];
  startedAt: string;
  durationMs: number;
}

/** A reply printed by `curl -w '\n%{http_code}'`: its body and status (the status is the last line; the body may end with a newline, as Flask's does). */
export function reply(c: Captured): { body: string; code: number } {
  const cut = c.stdout.lastIndexOf('\n');
  return { body: c.stdout.slice(0, Math.max(cut, 0)), code: Number(c.stdout.slice(cut + 1).trim()) };
}

/** An HTTP reply printed by `curl -i`: status, headers (lower-case names) and body. */
export function httpReply(c: Captured): { status: number; headers: Map<string, string>; body: string } {
  // curl -i prints every response head (a 100 Continue first, say): the last one is the reply.
  const parts = c.stdout.split('\r\n\r\n');
  let i = 0;
  while (i < parts.length - 1 && /^HTTP\/[\d.]+ 1\d\d/.test(parts[i]!)) i++;
  const [statusLine = '', ...lines] = (parts[i] ?? '').split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]), headers, body: parts.slice(i + 1).join('\r\n\r\n') };
}
