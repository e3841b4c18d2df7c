/**
 * `ecomnet verify`'s judge, in one process: stand outside the build (the probe, or a virtual
 * host's world), read the host once (discover), judge its rules once (judge.ts), run the selected
 * deliverables' checks side by side, then say why each failing one failed. Pure of ecomnet: it
 * knows the seed's contract and the live host, and logs in as it is told or as the seed does.
 *
 * Every deliverable ends pass, fail, inconclusive (the grader could not judge it: a missing tool,
 * no privileges, no outside) or not graded (not selected). The result is plain data, so a grader
 * run inside a virtual host hands it to the process that writes the reports.
 */
import { isRoot, priv, run as runCommand } from '../host/exec.ts';
import { detectBackend } from '../host/iptables.ts';
import { listDiff } from '../host/snapshot.ts';
import type { Captured, Matrix } from './evidence.ts';
import { networkChecks } from './checks/network.ts';
import { serviceChecks } from './checks/services.ts';
import { type Check, type CheckOutcome, Failed, Inconclusive, type Lab, Trial, type Verdict } from './checks/trial.ts';
import { namespaces } from './contract.ts';
import { buildText } from './build-text.ts';
import { type Deliverable, deliverables, selectDeliverables } from './deliverables.ts';
import { type Deviation, deviations, diagnose, type Finding, gatherServiceFacts } from './diagnose.ts';
import { diagramFindings, liveDiagramSvg } from './live-diagram.ts';
import { discover } from './discover.ts';
import { judgeRules } from './judge.ts';
import { labLines } from './lab-lines.ts';
import { type Credentials, pgLogin, redisLogin } from './logins.ts';
import type { HostModel } from './model.ts';
import { WORLD } from '../vhost/vhost.ts';
import { namespaceOf } from './find.ts';
import { attachProbe, probeNames } from './probe.ts';
import { type LabHost, type Split, discoverSplit } from './split.ts';
import { probeVantage, type Vantage, vhostVantage } from './vantage.ts';

/** Every check, in the seed's order. */
export const checks: Check[] = [...networkChecks, ...serviceChecks];

export type Status = Verdict | 'not graded';

/** Where the grader stands outside the build. */
export type Outside = { kind: 'probe' } | { kind: 'vhost'; netns: string; uplink: string } | { kind: 'none'; why: string };

export interface GradeOptions {
  /** `--only`: tasks (1.2), phases (phase1) or deliverable ids; everything when left out. */
  only?: string;
  /** The logins to use as URLs (flags, environment), or a hook that answers them from the host found. */
  credentials?: Credentials | ((model: HostModel) => Credentials | undefined);
  /** Default: verify's probe, added and removed again. */
  outside?: Outside;
  /** The reachability matrix (every namespace pings every other), for the report. */
  matrix?: boolean;
  /** The build script the grader ran (verify --build): what it started where, and where their output went, for a dead service's last words. */
  build?: string;
  /**
   * The lab is split across these hosts (course day 6), judged as one lab (split.ts); the outside
   * is the front host's, already there (splitOutside), never a probe added.
   */
  hosts?: LabHost[];
  progress?: (line: string) => void;
}

export interface OutcomeData {
  id: string;
  deliverable: string;
  title: string;
  verdict: Verdict;
  reason?: string;
  evidence: Captured[];
  startedAt: string;
  durationMs: number;
}

export interface DeliverableVerdict {
  id: string;
  title: string;
  task: string;
  points: number;
  status: Status;
  /** The first reason among its checks that did not pass. */
  reason?: string;
}

export interface GradeResult {
  startedAt: string;
  durationMs: number;
  host: { kernel: string; iptablesBackend: string; node: string; outside: Outside['kind'] };
  deliverables: DeliverableVerdict[];
  outcomes: OutcomeData[];
  /** Each cause once, with the failing deliverables it explains. */
  diagnoses: Finding[];
  deviations: Deviation[];
  advice: Deviation[];
  diagram?: { svg: string; findings: string[] };
  matrix?: Matrix;
  score: { points: number; max: number; graded: number; of: number };
  /** Why the grader could not judge at all, or what went wrong around the checks. */
  errors: string[];
  verdict: Verdict;
}

/** verify's exit codes: documented in the README. */
export const EXIT = { pass: 0, fail: 1, inconclusive: 2, usage: 3 } as const;

const TOOL_HINTS: Record<string, string> = {
  nc: 'netcat-openbsd',
  ss: 'iproute2',
  ip: 'iproute2',
  bridge: 'iproute2',
  psql: 'postgresql-client',
  pg_isready: 'postgresql-client',
  'redis-cli': 'redis-tools',
  ping: 'iputils-ping',
  ps: 'procps',
};

async function missingTools(tools: string[]): Promise<Set<string>> {
  if (!tools.length) return new Set();
  const r = await runCommand(['sh', '-c', 'for t; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done', 'sh', ...tools], { allowFail: true });
  return new Set(r.stdout.split('\n').filter(Boolean));
}

/** Root, or passwordless sudo: what every check needs (the seed's commands are `sudo ...`). */
async function privileged(): Promise<boolean> {
  return isRoot || (await runCommand(['sudo', '-n', 'true'], { allowFail: true })).exitCode === 0;
}

const NO_PRIVILEGE = 'verify needs root: run `sudo npx ecomnet verify`, or give this user passwordless sudo; the lab was not judged';

/** At most `limit` at once. */
function limiter(limit: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(f: () => Promise<T>) => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await f();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

async function runCheck(c: Check, lab: Lab, missing: Set<string>): Promise<CheckOutcome> {
  const t = new Trial(lab);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const end = (verdict: Verdict, reason?: string): CheckOutcome => ({ check: c, verdict, ...(reason ? { reason } : {}), evidence: t.evidence, startedAt, durationMs: performance.now() - t0 });
  const absent = c.tools.filter((x) => missing.has(x));
  if (absent.length) return end('inconclusive', `the grader needs ${absent.map((x) => (TOOL_HINTS[x] ? `${x} (apt-get install ${TOOL_HINTS[x]})` : x)).join(', ')}, which this host lacks`);
  if (c.outside && !lab.vantage) return end('inconclusive', `no outside to test from: ${lab.noVantage}`);
  try {
    await c.run(t);
    return end('pass');
  } catch (e) {
    if (e instanceof Inconclusive) return end('inconclusive', e.message);
    return end('fail', e instanceof Failed ? e.message : `${(e as Error).name}: ${(e as Error).message}`);
  }
}

/** The checks side by side, each after those it names and never with one holding its lock. */
export async function runChecks(list: Check[], lab: Lab, limit = 12): Promise<CheckOutcome[]> {
  const missing = await missingTools([...new Set(list.flatMap((c) => c.tools))]);
  const slot = limiter(limit);
  const started = new Map<string, Promise<CheckOutcome>>();
  const locks = new Map<string, Promise<unknown>>();
  for (const c of list) {
    const deps = (c.after ?? []).map((id) => started.get(id)).filter((p) => p !== undefined);
    const held = c.lock ? (locks.get(c.lock) ?? Promise.resolve()) : Promise.resolve();
    const p = Promise.all([...deps, held]).then(() => slot(() => runCheck(c, lab, missing)));
    if (c.lock) locks.set(c.lock, p);
    started.set(c.id, p);
  }
  return Promise.all(started.values());
}

/** A deliverable's status from its checks: a failure fails it; otherwise one the grader could not judge leaves it inconclusive. */
export function statusOf(d: Deliverable, outcomes: OutcomeData[], selected: Set<string>): DeliverableVerdict {
  const base = { id: d.id, title: d.title, task: d.task, points: d.points };
  if (!selected.has(d.id)) return { ...base, status: 'not graded' };
  const mine = outcomes.filter((o) => o.deliverable === d.id);
  const failed = mine.find((o) => o.verdict === 'fail');
  const unknown = mine.find((o) => o.verdict === 'inconclusive');
  const first = failed ?? unknown;
  const status: Verdict = failed ? 'fail' : unknown || !mine.length ? 'inconclusive' : 'pass';
  return { ...base, status, ...(first?.reason ? { reason: first.reason } : !mine.length ? { reason: 'no check judges it' } : {}) };
}

/** Every namespace pings every other (one echo, a second chance for the ARP of a loaded host), for the report; each from its own host on a split lab. */
async function reachability(split?: Split): Promise<Matrix> {
  const slot = limiter(12);
  const pairs = namespaces.flatMap((a) => namespaces.filter((b) => b !== a).map((b) => ({ a, b })));
  const cells = await Promise.all(
    pairs.map(({ a, b }) =>
      slot(async () => {
        const argv = ['ip', 'netns', 'exec', a.name, 'ping', '-c', '2', '-i', '0.2', '-W', '1', b.ip];
        const host = split?.of.get(a.name);
        const r = await (host ? runCommand(host.argv(argv), { allowFail: true, timeoutMs: 5000 }) : priv(argv, { allowFail: true, timeoutMs: 5000 }));
        return { from: a.name, to: b.name, expected: true, received: /\b[12] received/.test(r.stdout) };
      }),
    ),
  );
  const received = cells.filter((c) => c.received).length;
  return { nodes: namespaces.map((n) => n.name), cells, summary: `Results: ${Math.round((100 * (cells.length - received)) / cells.length)}% dropped (${received}/${cells.length} received)` };
}

const plain = (o: CheckOutcome): OutcomeData => ({
  id: o.check.id,
  deliverable: o.check.deliverable,
  title: o.check.title,
  verdict: o.verdict,
  ...(o.reason ? { reason: o.reason } : {}),
  evidence: o.evidence,
  startedAt: o.startedAt,
  durationMs: o.durationMs,
});

function scoreOf(list: DeliverableVerdict[]): GradeResult['score'] {
  const graded = list.filter((d) => d.status !== 'not graded');
  return { points: graded.filter((d) => d.status === 'pass').reduce((s, d) => s + d.points, 0), max: graded.reduce((s, d) => s + d.points, 0), graded: graded.length, of: list.length };
}

const verdictOf = (list: DeliverableVerdict[], errors: string[]): Verdict =>
  list.some((d) => d.status === 'fail') ? 'fail' : list.some((d) => d.status === 'inconclusive') || errors.length ? 'inconclusive' : 'pass';

/** Everything selected, inconclusive for one reason: the grader could not judge the lab at all. */
function unjudged(startedAt: string, t0: number, selected: Set<string>, why: string, outside: Outside['kind']): GradeResult {
  const list = deliverables.map(
    (d): DeliverableVerdict => ({
      id: d.id,
      title: d.title,
      task: d.task,
      points: d.points,
      status: selected.has(d.id) ? 'inconclusive' : 'not graded',
      ...(selected.has(d.id) ? { reason: why } : {}),
    }),
  );
  return {
    startedAt,
    durationMs: performance.now() - t0,
    host: { kernel: '', iptablesBackend: '', node: process.version, outside },
    deliverables: list,
    outcomes: [],
    diagnoses: [],
    deviations: [],
    advice: [],
    score: scoreOf(list),
    errors: [why],
    verdict: 'inconclusive',
  };
}

/**
 * A split lab's outside, found on its front host, never added: its own outside segment (ecomnet's
 * platform has one), else the world behind eth0 of a virtual host made with an external client.
 */
async function splitOutside(split: Split, model: HostModel): Promise<{ vantage?: Vantage; noVantage?: string }> {
  if (probeNames.namespaces.every((n) => namespaceOf(model, n) && split.of.get(n) === split.front)) return { vantage: probeVantage };
  const world = await runCommand(split.front.argv(['nsenter', `--net=${WORLD.netns}`, 'ip', '-o', '-4', 'addr', 'show']), { allowFail: true });
  if (world.exitCode === 0 && world.stdout.includes(` ${WORLD.client.ip}/`)) return { vantage: vhostVantage(WORLD.netns, WORLD.uplink) };
  return {
    noVantage: `${split.front.name} has no outside segment of its own (${probeNames.namespaces.join(', ')}) nor an external client behind its ${WORLD.uplink}, and verify adds none to a split lab`,
  };
}

export async function grade(o: GradeOptions = {}): Promise<GradeResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const say = o.progress ?? (() => {});
  const selection = selectDeliverables(o.only);
  const selected = new Set(selection.map((d) => d.id));
  const outside: Outside = o.outside ?? { kind: 'probe' };
  if (!(await privileged())) return unjudged(startedAt, t0, selected, NO_PRIVILEGE, outside.kind);
  const errors: string[] = [];
  let vantage: Vantage | undefined;
  let noVantage: string | undefined;
  let release = async () => {};
  if (outside.kind === 'probe' && o.hosts) {
    // Never added to a split lab's hosts: the outside segment must be the front host's own (ecomnet's platform has one); read below.
  } else if (outside.kind === 'probe') {
    try {
      const probe = await attachProbe((step, ms) => say(`${step} (${ms.toFixed(0)} ms)`));
      release = probe.release;
      vantage = probeVantage;
    } catch (e) {
      noVantage = `verify's outside probe could not be added: ${(e as Error).message}`;
    }
  } else if (outside.kind === 'vhost') vantage = vhostVantage(outside.netns, outside.uplink);
  else noVantage = outside.why;
  try {
    const reads: Captured[] = [];
    const [found, backend, kernel] = await Promise.all([
      // Across hosts, ecomnet's platform hands its logins over on the host that holds its data servers (none given: the handshake).
      o.hosts ? discoverSplit(o.hosts, { handshake: o.credentials === undefined }) : discover((c) => reads.push(c)).then((model) => ({ model, split: undefined })),
      detectBackend(),
      runCommand(['uname', '-r'], { allowFail: true }),
    ]);
    const { model, split } = found;
    if ('reads' in found) reads.push(...found.reads);
    if (split && outside.kind === 'probe') ({ vantage, noVantage } = await splitOutside(split, model));
    const judgement = judgeRules(model, vantage);
    const given = typeof o.credentials === 'function' ? o.credentials(model) : (o.credentials ?? ('handed' in found ? found.handed : undefined));
    const lab: Lab = {
      model,
      judgement,
      ...(vantage ? { vantage } : { noVantage: noVantage ?? 'none' }),
      pg: pgLogin(model, given?.pgUrl),
      redis: redisLogin(model, given?.redisUrl),
      iptables: { save: backend.save, list: backend.iptables },
      shared: new Map(),
      ...(split ? { split } : {}),
    };
    // A selected check's prerequisites run too (the read-back needs the order written), though their deliverables stay ungraded.
    const wanted = new Set(checks.filter((c) => selected.has(c.deliverable)).map((c) => c.id));
    for (const c of [...checks].reverse()) if (wanted.has(c.id)) for (const id of c.after ?? []) wanted.add(id);
    const chosen = checks.filter((c) => wanted.has(c.id));
    say(`judging ${selection.length} deliverables with ${chosen.length} checks`);
    const [outcomes, matrix] = await Promise.all([runChecks(chosen, lab), o.matrix === false || !selection.some((d) => d.task === '1.2') ? undefined : reachability(split)]);
    const data = outcomes.map(plain);
    // What discovery read is the live diagram's evidence: the picture is drawn from it.
    const diagram = data.find((x) => x.id === '1.2-diagram');
    if (diagram) diagram.evidence.unshift(...reads);
    const list = deliverables.map((d) => statusOf(d, data, selected));
    const failing = new Set(list.filter((d) => d.status === 'fail').map((d) => d.id));
    const script = o.build ? await buildText(o.build) : undefined;
    // What the services were told and how they run is read from this machine's /proc: a split lab's are its hosts' own.
    const facts = split ? {} : await gatherServiceFacts(model, { pg: lab.pg, redis: lab.redis }, script);
    const diagnoses = failing.size
      ? diagnose(model, judgement, facts)
          .map((f) => ({ ...f, deliverables: f.deliverables.filter((id) => failing.has(id)) }))
          .filter((f) => f.deliverables.length)
      : [];
    const graded = (x: Deviation) => ({ ...x, deliverables: x.deliverables.filter((id) => selected.has(id)) });
    const devs = deviations(model, judgement, facts)
      .map(graded)
      .filter((x) => x.deliverables.length);
    const advice = judgement.advice.map(graded).filter((x) => x.deliverables.length);
    // Verify judges and leaves: a lab on a real host must read the same afterwards (its own probe aside).
    // A virtual host is thrown away after grading, so there it is not read again.
    if (outside.kind !== 'vhost' && !split) {
      const ownLinks = [...probeNames.bridges, ...probeNames.veths];
      const changed = listDiff('lab', labLines(model, ownLinks), labLines(await discover(), ownLinks));
      if (changed.length) errors.push(`verify changed the lab it judged:\n  ${changed.join('\n  ')}`);
    }
    return {
      startedAt,
      durationMs: performance.now() - t0,
      host: { kernel: kernel.stdout.trim(), iptablesBackend: model.iptables.backend, node: process.version, outside: outside.kind },
      deliverables: list,
      outcomes: data,
      diagnoses,
      deviations: devs,
      advice,
      diagram: { svg: liveDiagramSvg(model, judgement), findings: diagramFindings(model, judgement) },
      ...(matrix ? { matrix } : {}),
      score: scoreOf(list),
      errors,
      verdict: verdictOf(list, errors),
    };
  } finally {
    await release();
  }
}

/**
 * A build that asked for Docker where none answers (a virtual host has none): what failed for want
 * of the server it would have started there (no PostgreSQL or Redis at all) was not the build's
 * fault to judge, so it is inconclusive, with why, and the cause is no longer the build's.
 */
export function withoutDocker(r: GradeResult, why: string): GradeResult {
  // The data servers Docker would have run, and the services that died for want of them.
  const data = r.diagnoses.filter((f) => f.id === 'postgres-missing' || f.id === 'redis-not-listening');
  const starved = r.diagnoses.filter(
    (f) => (f.id === 'order-not-listening' && data.some((d) => d.id === 'postgres-missing')) || (f.id === 'product-not-listening' && data.some((d) => d.id === 'redis-not-listening')),
  );
  const missing = [...data, ...starved];
  const unjudged = new Set(missing.flatMap((f) => f.deliverables));
  if (!unjudged.size) return { ...r, errors: [...r.errors, why] };
  const list = r.deliverables.map((d) => (unjudged.has(d.id) && d.status === 'fail' ? { ...d, status: 'inconclusive' as const, reason: why } : d));
  const diagnoses = r.diagnoses.filter((f) => !missing.includes(f));
  return { ...r, deliverables: list, diagnoses, score: scoreOf(list), errors: [...r.errors, why], verdict: verdictOf(list, [why]) };
}

/** The exit code of a result: 0 all graded pass, 1 a deliverable failed, 2 nothing failed but something could not be judged. */
export const exitCodeOf = (r: GradeResult): number => EXIT[r.verdict];
