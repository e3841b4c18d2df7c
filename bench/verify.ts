import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hostPort, nodeOf, topology } from '../src/topology/default.ts';
import { catalogue } from '../setup/catalogue.ts';
import { pgpassLine } from '../src/data/postgres.ts';
import { deliverables } from '../src/grader/deliverables.ts';
import { priv, run } from '../src/host/exec.ts';
import { readSysctl } from '../src/host/facts.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { setSysctls } from '../src/host/sysctl.ts';
import { sysctlKeys } from '../src/plan/plan.ts';
import { readJson } from '../src/util/read-json.ts';
import { readSecrets } from '../src/runtime/secrets.ts';
import type { NodeSpec } from '../src/topology/types.ts';
import { countOrders, SEED_ORDER } from './datapath.ts';

/**
 * Section 7: `ecomnet verify` as a person runs it, a whole process against the platform section 3
 * left up, and as the baseline the seed's own deliverable commands in one bash script.
 */

const ROUNDS = 5;
const BROKEN_ROUNDS = 2;
const cliBin = fileURLToPath(new URL('../bin/ecomnet.js', import.meta.url));
const VERIFY_TIMEOUT_MS = 120_000;
/** The grader's own learner fault for forwarding off: the deliverables it must fail and the cause it must name. */
export const FORWARD_OFF = catalogue.find((m) => m.name === 'ip-forward-off')!;

export interface VerifyRun {
  /** Wall time of the CLI process, Node's start-up included. */
  ms: number;
  exitCode: number;
  /** `P/M` of its `score:` line, or null if it never printed one. */
  score: string | null;
  /** Every deliverable printed as failed (✗), by id. */
  failed: string[];
  /** The causes results.json names, by id. */
  diagnoses: string[];
  /** What went wrong, as printed, short (empty when it exited 0). */
  failures: string[];
  /** ms after spawn: the CLI's first line (Node start-up, CLI imports). */
  firstLineAt: number;
  /** The probe's attach as verify's `probe: ... (N ms)` line says; absent when the host's own outside segment was used as it stands. */
  probeMs?: number;
  /** ms after spawn: `judging N deliverables with M checks` (privileges, probe, discovery done), and what it said. */
  judgingAt?: number;
  judged?: string;
  /** ms after spawn: the first deliverable's line (checks, diagnosis, reports done). */
  verdictsAt?: number;
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

const maxPoints = deliverables.reduce((s, d) => s + d.points, 0);
/** The score every deliverable passing prints. */
export const FULL_SCORE = `${maxPoints}/${maxPoints}`;
/** Exit 0 with every deliverable's points. */
export const scoredAll = (r: VerifyRun): boolean => r.exitCode === 0 && r.score === FULL_SCORE;

/** One `ecomnet verify` process, each output line time-stamped as it arrives. */
async function verifyOnce(reports: string): Promise<VerifyRun> {
  const t0 = performance.now();
  // Its own process group, so a timeout stops it and what it runs together, as Ctrl-C would.
  const p = spawn(process.execPath, [cliBin, 'verify', '--reports', reports], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stdout: { at: number; line: string }[] = [];
  const stderr: string[] = [];
  createInterface({ input: p.stdout }).on('line', (line) => stdout.push({ at: performance.now() - t0, line }));
  createInterface({ input: p.stderr }).on('line', (line) => stderr.push(line));
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
  clearTimeout(timer);
  const at = (re: RegExp) => stdout.find((l) => re.test(l.line));
  const scoreLine = at(/^score: /)?.line;
  const probe = stdout.map((l) => /^\s*probe: .*\((\d+) ms\)$/.exec(l.line)?.[1]).find(Boolean);
  const judging = at(/^\s*judging \d+ deliverables with \d+ checks/);
  const results = readJson<{ diagnoses?: { id: string }[] }>(join(reports, 'results.json'));
  return {
    ms,
    exitCode,
    score: /^score: (\d+\/\d+)/.exec(scoreLine ?? '')?.[1] ?? null,
    failed: stdout.map((l) => /^✗\s+(\S+)/.exec(l.line)?.[1]).filter((id) => id !== undefined),
    diagnoses: results?.diagnoses?.map((d) => d.id) ?? [],
    // What failed and why, short: the fixes are in the run's own report.
    failures: exitCode === 0 ? [] : [...stdout.map((l) => l.line.trim()).filter((l) => /^(✗|\?|verify:)/.test(l)), ...stderr].slice(0, 8).map((l) => l.replace(/\s+/g, ' ').slice(0, 160)),
    firstLineAt: stdout[0]?.at ?? ms,
    ...(probe ? { probeMs: Number(probe) } : {}),
    ...(judging ? { judgingAt: judging.at, judged: judging.line.trim(), verdictsAt: stdout.slice(stdout.indexOf(judging)).find((l) => /^[✓✗?-] /.test(l.line))?.at } : {}),
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
      say(`verify ${i + 1}: ${v.ms.toFixed(0)} ms, score ${v.score ?? 'not printed'}, exit ${v.exitCode}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export interface BrokenVerifyBench {
  /** The fault, as a person would make it. */
  fault: string;
  /** The deliverables it must fail (and only those), and the cause verify must name. */
  mustFail: string[];
  diagnosis: string;
  runs: VerifyRun[];
}

/**
 * Section 7c: verify of a broken platform, where failing probes wait for their timeouts: the
 * platform of section 3 with the host's forwarding off (the grader's ip-forward-off learner
 * fault); forwarding is put back after.
 */
export async function brokenVerifyBench(say: (line: string) => void): Promise<BrokenVerifyBench> {
  const key = sysctlKeys(topology).forward;
  const was = readSysctl(key);
  if (was === null) throw new Error(`${key} cannot be read on this host`);
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-bench-broken-'));
  const out: BrokenVerifyBench = { fault: `sysctl -w ${key}=0`, mustFail: FORWARD_OFF.fails, diagnosis: FORWARD_OFF.diagnosis!, runs: [] };
  try {
    await setSysctls([{ key, value: '0' }]);
    for (let i = 0; i < BROKEN_ROUNDS; i++) {
      const v = await verifyOnce(join(dir, `verify-${i + 1}`));
      out.runs.push(v);
      say(`broken platform, verify ${i + 1}: ${v.ms.toFixed(0)} ms, score ${v.score ?? 'not printed'}, exit ${v.exitCode}, causes ${v.diagnoses.join(', ') || 'none'}`);
    }
  } finally {
    await setSysctls([{ key, value: was }]);
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
