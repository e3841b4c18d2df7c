import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { hostPort, nodeOf, topology } from '../fixtures/topology.ts';
import { pgpassLine } from '../src/data/postgres.ts';
import { priv, run } from '../src/host/exec.ts';
import { readSysctl } from '../src/host/facts.ts';
import { setSysctls } from '../src/host/sysctl.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { deliverables } from '../src/grader/deliverables.ts';
import { readSecrets } from '../src/runtime/secrets.ts';
import type { NodeSpec } from '../src/topology/types.ts';
import { countOrders, SEED_ORDER } from './datapath.ts';

/**
 * Section 7: `ecomnet verify` as a person runs it, a whole process against the platform section 3
 * left up, and as the baseline the seed's own deliverable commands in one bash script.
 */

const ROUNDS = 3;
const BROKEN_ROUNDS = 2;
const cliBin = fileURLToPath(new URL('../bin/ecomnet.js', import.meta.url));
/** Often enough to place Vitest's Duration line within a few ms, rarely enough to cost no CPU. */
export const LOG_POLL_MS = 20;
const VERIFY_TIMEOUT_MS = 180_000;
const DURATION = /^\s*Duration\s+([\d.]+)(ms|s)(?:\s*\(([^)]*)\))?/m;
// A test file's summary line: "✓  platform  suites/phase1/reachability.test.ts (3 tests) 2153ms".
const FILE_LINE = /^\s*\S+\s+(?:\S+\s+)?(\S+\.test\.ts)\s+\([^)]*\)\s+([\d.]+)(ms|s)\s*$/gm;

export interface VerifyRun {
  /** Wall time of the CLI process, Node's start-up included. */
  ms: number;
  exitCode: number;
  /** `deliverables: P/N passed` as printed, or null if it never was. */
  printed: string | null;
  /** It printed every deliverable passed. */
  ok: boolean;
  /** The failing deliverables, their diagnoses and run errors, as printed (empty when ok). */
  failures: string[];
  /** Every deliverable printed as failed (✗), by id. */
  failed: string[];
  /** ms after spawn: the CLI's first line (Node start-up, CLI imports). */
  firstLineAt: number;
  /** ms after spawn: Vitest's Duration line seen in verify.log (within LOG_POLL_MS). */
  durationLineAt?: number;
  /** ms after spawn: the first line after the suites (Vitest has exited, results.json read). */
  suitesDoneAt?: number;
  /** Vitest's own Duration: from its run's start to its end, global setup included, teardown not. */
  vitestMs?: number;
  /** Vitest's split of that time, % of the summed worker time (phases run in parallel workers). */
  vitestPhases: Record<string, number>;
  /** Each test file's duration as Vitest printed it (files run in parallel). */
  files: Record<string, number>;
}

export interface SeedCommand {
  /** The program that does the work (ping, curl, ss, ...), to sum by. */
  tool: string;
  line: string;
}

export interface SeedRun {
  ms: number;
  exitCode: number;
  /** ms per command, in script order; shorter than the script when a command failed. */
  perCommand: number[];
  /** The command that failed and what it said. */
  failed?: string;
}

export interface VerifyBench {
  runs: VerifyRun[];
  seed: SeedRun[];
  seedCommands: SeedCommand[];
  /** Seed deliverable commands left out, and why. */
  skipped: string[];
  /** Rows in orders before the rounds: the seed's `SELECT * FROM orders` prints every one (section 5 added most). */
  orderRows: number | null;
}

const unitMs = (v: string, unit: string) => Number(v) * (unit === 's' ? 1000 : 1);

/** What the verify run wrote to verify.log: Vitest's Duration, its split and each file's time. */
export function parseVitestLog(raw: string): Pick<VerifyRun, 'vitestMs' | 'vitestPhases' | 'files'> {
  const text = stripVTControlCharacters(raw);
  const d = DURATION.exec(text);
  const vitestPhases: Record<string, number> = {};
  for (const part of d?.[3]?.split(',') ?? []) {
    const m = /^\s*(\w+)\s+([\d.]+)%/.exec(part);
    if (m) vitestPhases[m[1]!] = Number(m[2]);
  }
  const files: Record<string, number> = {};
  for (const m of text.matchAll(FILE_LINE)) files[m[1]!] = unitMs(m[2]!, m[3]!);
  return { vitestMs: d ? unitMs(d[1]!, d[2]!) : undefined, vitestPhases, files };
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** One `ecomnet verify` process, each output line time-stamped, its verify.log watched for Vitest's Duration. */
async function verifyOnce(reports: string, env: NodeJS.ProcessEnv = {}): Promise<VerifyRun> {
  const log = join(reports, 'verify.log');
  const t0 = performance.now();
  // Its own process group, so a timeout stops the CLI and its Vitest together, as Ctrl-C would.
  const p = spawn(process.execPath, [cliBin, 'verify', '--no-allure', '--reports', reports], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
  const stdout: { at: number; line: string }[] = [];
  const stderr: string[] = [];
  createInterface({ input: p.stdout }).on('line', (line) => stdout.push({ at: performance.now() - t0, line }));
  createInterface({ input: p.stderr }).on('line', (line) => stderr.push(line));
  let durationLineAt: number | undefined;
  const poll = setInterval(() => {
    if (durationLineAt === undefined && DURATION.test(stripVTControlCharacters(readText(log)))) durationLineAt = performance.now() - t0;
  }, LOG_POLL_MS);
  const timer = setTimeout(() => {
    try {
      if (p.pid) process.kill(-p.pid, 'SIGINT');
    } catch {}
  }, VERIFY_TIMEOUT_MS);
  const exitCode = await new Promise<number>((resolve) => {
    p.once('error', (e) => {
      stderr.push(e.message);
      resolve(-1);
    });
    p.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const ms = performance.now() - t0;
  clearInterval(poll);
  clearTimeout(timer);
  const n = deliverables.length;
  const printed = stdout.map((l) => /deliverables: (\d+\/\d+) passed/.exec(l.line)?.[1]).find(Boolean) ?? null;
  const ok = printed === `${n}/${n}`;
  // What failed and why, short: the fixes are in the run's own report.
  const failures = ok ? [] : [...stdout.map((l) => l.line.trim()).filter((l) => /^(✗|\?|cause:|run error:)/.test(l)), ...stderr].slice(0, 8).map((l) => l.replace(/\s+/g, ' ').slice(0, 160));
  return {
    ms,
    exitCode,
    printed,
    ok,
    failures,
    failed: stdout.map((l) => /^✗\s+(\S+)/.exec(l.line)?.[1]).filter((id) => id !== undefined),
    firstLineAt: stdout[0]?.at ?? ms,
    durationLineAt,
    suitesDoneAt: stdout[1]?.at,
    ...parseVitestLog(readText(log)),
  };
}

/** The simulated internet host is reached through the outside bridge, never by the host's real uplink. */
async function internetIsLocal(ip: string): Promise<boolean> {
  const r = await run(['ip', 'route', 'get', ip], { allowFail: true });
  return r.exitCode === 0 && new RegExp(`\\bdev ${topology.outside.bridge.name}\\b`).test(r.stdout);
}

/**
 * The commands the seed's deliverables show, in its order, as a person types them (the host's
 * IP replaced by localhost). Two changes the lab forces: ping the platform's simulated internet
 * host instead of 8.8.8.8, and PostgreSQL is where native mode runs it (postgres-db), not Docker.
 */
function seedCommands(internet: boolean, pgPassword: boolean): { commands: SeedCommand[]; skipped: string[] } {
  const [lb, gw, product, order, redis, pg, inet] = (['nginx', 'gateway', 'product', 'order', 'redis', 'postgres', 'internet'] as const).map((c) => nodeOf(c));
  const ns = (n: NodeSpec, cmd: string) => `ip netns exec ${n.name} ${cmd}`;
  const edge = `http://localhost:${hostPort()}`;
  const gwLocal = `http://localhost:${gw.port}`;
  const c = (tool: string, line: string): SeedCommand => ({ tool, line });
  // -f so an HTTP error fails the script as it would catch a person's eye; `/` has no route (404 in the seed's Flask too).
  const commands = [
    c('ip', 'ip netns list'),
    c('ip', `ip -br addr show ${topology.app.bridge.name}`),
    c('ip', 'ip link show type veth'),
    c('ping', ns(lb, `ping -c 2 ${gw.ip}`)),
    c('ping', ns(lb, `ping -c 2 ${product.ip}`)),
    c('ping', ns(gw, `ping -c 2 ${product.ip}`)),
    c('ping', ns(gw, `ping -c 2 ${order.ip}`)),
    ...(internet ? [c('ping', ns(product, `ping -c 3 ${inet.ip}`))] : []),
    c('curl', `curl -sS ${edge}`),
    c('iptables', 'iptables -t nat -L -v -n'),
    c('curl', `curl -fsS ${edge}/health`),
    c('curl', ns(gw, `curl -fsS http://${lb.ip}/health`)),
    c('ss', ns(gw, `ss -lntp | grep ${gw.port}`)),
    c('curl', ns(gw, `curl -fsS http://127.0.0.1:${gw.port}/health`)),
    c('curl', ns(lb, `curl -fsS http://${gw.ip}:${gw.port}/health`)),
    c('curl', ns(gw, `curl -fsS ${gwLocal}/api/products`)),
    c('curl', `curl -fsS ${edge}/api/products`),
    c('curl', ns(gw, `curl -fsS ${gwLocal}/api/orders`)),
    c('curl', `curl -fsS ${edge}/api/orders`),
    c('ss', ns(product, `ss -lntp | grep ${product.port}`)),
    c('ss', ns(redis, `ss -lntp | grep ${redis.port}`)),
    c('nc', ns(product, `nc -zv ${redis.ip} ${redis.port}`)),
    c('ss', ns(order, `ss -lntp | grep ${order.port}`)),
    c('ss', ns(pg, `ss -lntp | grep ${pg.port}`)),
    c('nc', ns(order, `nc -zv ${pg.ip} ${pg.port}`)),
    c('curl', ns(gw, `curl -fsS -X POST ${gwLocal}/api/orders -H 'Content-Type: application/json' -d '${SEED_ORDER}'`)),
    ...(pgPassword ? [c('psql', `psql -U postgres -d orders -h ${pg.ip} -c "SELECT * FROM orders;"`)] : []),
  ];
  const skipped = [
    'sudo docker ps (native mode: PostgreSQL runs in postgres-db, not Docker)',
    `ip netns exec ${lb.name} cat /tmp/nginx/nginx.conf (ecomnet keeps nginx's configuration in its run directory)`,
    ...(internet ? [] : [`ping ${inet.ip}: it is not routed by ${topology.outside.bridge.name}, so it could leave the host`]),
    ...(pgPassword ? [] : ['psql: no run secrets to log in with']),
  ];
  return { commands, skipped };
}

/** A marker before each command and after the last: bash builtins, so the script forks nothing more than the seed's. */
function seedScript(commands: SeedCommand[], pgPassFile?: string): string {
  return [
    'set -eo pipefail',
    // A file, not PGPASSWORD: an environment is readable in /proc/PID/environ while psql runs.
    ...(pgPassFile ? [`export PGPASSFILE='${pgPassFile.replaceAll("'", `'\\''`)}'`] : []),
    `mark() { printf '@@ %s\\n' "\${EPOCHREALTIME/[.,]/}" >&2; }`,
    ...commands.flatMap((cmd) => ['mark', cmd.line]),
    'mark',
    '',
  ].join('\n');
}

async function seedOnce(script: string, commands: SeedCommand[]): Promise<SeedRun> {
  const t0 = performance.now();
  const r = await priv(['bash', script], { allowFail: true, timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  const marks = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('@@ '))
    .map((l) => Number(l.slice(3)) / 1000);
  const perCommand = marks.slice(1).map((m, i) => m - marks[i]!);
  const failing = commands[perCommand.length];
  const said = r.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('@@ '))
    .slice(-3)
    .join(' / ');
  return { ms, exitCode: r.exitCode, perCommand, ...(r.exitCode ? { failed: `${failing?.line ?? 'bash'} (exit ${r.exitCode}): ${said}` } : {}) };
}

/** Runs while the platform of section 3 is up; it changes nothing of it but the rows the seed's POST adds. */
export async function verifyBench(say: (line: string) => void): Promise<VerifyBench> {
  const secrets = readSecrets(runDirAt());
  const inet = nodeOf('internet');
  const { commands, skipped } = seedCommands(await internetIsLocal(inet.ip), Boolean(secrets));
  const orderRows = await countOrders().catch(() => null);
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-bench-verify-'));
  const script = join(dir, 'seed-checks.sh');
  // The run's PostgreSQL password, for psql: only its owner reads it (the directory is 0700 too).
  const pgPass = join(dir, 'pgpass');
  if (secrets) writeFileSync(pgPass, pgpassLine('postgres', secrets.postgres), { mode: 0o600, flag: 'wx' });
  writeFileSync(script, seedScript(commands, secrets ? pgPass : undefined), { mode: 0o600, flag: 'wx' });
  const out: VerifyBench = { runs: [], seed: [], seedCommands: commands, skipped, orderRows };
  try {
    // Alternated, so a drift of the host's load over the section weighs on both sides alike.
    for (let i = 0; i < ROUNDS; i++) {
      const s = await seedOnce(script, commands);
      out.seed.push(s);
      say(`seed checks ${i + 1}: ${s.ms.toFixed(0)} ms${s.failed ? `, FAILED at ${s.failed}` : ''}`);
      const v = await verifyOnce(join(dir, `verify-${i + 1}`));
      out.runs.push(v);
      say(`verify ${i + 1}: ${v.ms.toFixed(0)} ms, deliverables ${v.printed ?? 'not printed'}${v.ok ? '' : ` (exit ${v.exitCode})`}`);
    }
  } finally {
    // Verify's Vitest may leave files only root can remove when it ran through sudo.
    await priv(['rm', '-rf', dir], { allowFail: true });
  }
  return out;
}

export interface BrokenVerifyBench {
  /** The fault, as a person would make it. */
  fault: string;
  /** ECOMNET_VERIFY_WORKERS=1: the files one after another, as verify ran them before. */
  inTurn: VerifyRun[];
  /** The default: files side by side, the independent probes of a file too. */
  sideBySide: VerifyRun[];
}

/**
 * Section 7c: verify of a broken platform, where failing probes wait for their timeouts. The
 * platform of section 3 with the host's forwarding off (the grader's "ip_forward off" learner
 * fault), judged with one worker and with the default, alternated; forwarding is put back after.
 */
export async function brokenVerifyBench(say: (line: string) => void): Promise<BrokenVerifyBench> {
  const key = sysctlKeys(topology).forward;
  const was = readSysctl(key);
  if (was === null) throw new Error(`${key} cannot be read on this host`);
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-bench-broken-'));
  const out: BrokenVerifyBench = { fault: `sysctl -w ${key}=0`, inTurn: [], sideBySide: [] };
  try {
    await setSysctls([{ key, value: '0' }]);
    for (let i = 0; i < BROKEN_ROUNDS; i++) {
      const one = await verifyOnce(join(dir, `in-turn-${i + 1}`), { ECOMNET_VERIFY_WORKERS: '1' });
      out.inTurn.push(one);
      const many = await verifyOnce(join(dir, `side-by-side-${i + 1}`));
      out.sideBySide.push(many);
      say(`broken platform, verify ${i + 1}: one worker ${one.ms.toFixed(0)} ms (${one.printed}), default ${many.ms.toFixed(0)} ms (${many.printed})`);
    }
  } finally {
    await setSysctls([{ key, value: was }]);
    await priv(['rm', '-rf', dir], { allowFail: true });
  }
  return out;
}
