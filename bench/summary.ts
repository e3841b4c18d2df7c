import { topology } from '../src/topology/default.ts';
import type { ColdStart } from './coldstart.ts';
import type { CpuShare } from './cpu.ts';
import type { Footprint, GetResult, Measured, OrderResult, PlacementResult, Rss } from './datapath.ts';
import { PROBE_TIMEOUT_MS } from '../src/net/readiness.ts';
import type { NetResult, UpDown } from './network.ts';
import { OBSERVER_BUDGET_PCT, type ObserverCost, RED_WITHIN_MS } from './observer.ts';
import type { Table } from './report.ts';
import type { SpawnCost } from './spawncost.ts';
import { median, ms, sec, target, type Target } from './stats.ts';
import { type BrokenVerifyBench, FULL_SCORE as FULL, scoredAll, type VerifyBench, type VerifyRun } from './verify.ts';
import type { TwoHostsBench } from './two-hosts.ts';
import { BUILD_STEPS, type BuildRun, type BuildStep, type ClassBench, type Spent, type VhostBench } from './vhost.ts';

/** Everything one `npm run bench` measured; what is missing was not reached (see `error`). */
export interface Results {
  startedAt: string;
  durationS?: number;
  host: {
    node: string;
    kernel: string;
    cores: number;
    loadavgStart: number[];
    loadavgEnd?: number[];
    /** br_netfilter on (Docker loads it): frames between namespaces on one bridge pass iptables too. */
    bridgeNetfilter: boolean;
  };
  loadTool: string | null;
  spawn?: SpawnCost;
  network?: NetResult;
  coldStart?: ColdStart;
  get?: GetResult;
  placement?: PlacementResult;
  orders?: OrderResult;
  /** Right after the cold start, and after the load of sections 4-5. */
  /** `platform`: every process of the idle platform, right after `up`. */
  memory?: { idle: Rss[]; afterLoad?: Rss[]; bareNode?: Omit<Rss, 'name' | 'pid' | 'exe'>; platform?: Footprint };
  verify?: VerifyBench;
  brokenVerify?: BrokenVerifyBench;
  vhost?: VhostBench;
  classGrade?: ClassBench;
  twoHosts?: TwoHostsBench;
  observer?: ObserverCost;
  hostClean?: { clean: boolean; leftovers: string[] };
  error?: string;
}

const x = (r: number) => `${r.toFixed(2)}x`;
const list = (xs: number[]) => xs.map((v) => v.toFixed(0)).join(', ');
const pct = (v: number) => `${v.toFixed(0)}%`;

function stepRows(steps: Record<string, number>, total: number): string[][] {
  const known = Object.values(steps).reduce((a, b) => a + b, 0);
  return [...Object.entries(steps).map(([k, v]) => [k, ms(v)]), ['(not in a step: spawns, facts, state, checks)', ms(Math.max(0, total - known))]];
}

function compareSection(c: NetResult['compare'], tables: Table[], targets: Target[]): void {
  const med = (xs: UpDown[], k: keyof UpDown) => median(xs.map((r) => r[k]));
  const ratio = { up: med(c.ours, 'up') / med(c.seed, 'up'), down: med(c.ours, 'down') / med(c.seed, 'down') };
  tables.push({
    title: `1. ${c.nodes}-node network up/down: batched (ours) vs one process per step (seed), ${c.ours.length} rounds`,
    rows: [
      ['', 'up median', 'down median', 'up rounds (ms)', 'down rounds (ms)'],
      ['ours: ip -batch, ip -n NS -batch, iptables-restore', ms(med(c.ours, 'up')), ms(med(c.ours, 'down')), list(c.ours.map((r) => r.up)), list(c.ours.map((r) => r.down))],
      [
        `seed: ${c.seedCommands.up} / ${c.seedCommands.down} commands from the same Plan`,
        ms(med(c.seed, 'up')),
        ms(med(c.seed, 'down')),
        list(c.seed.map((r) => r.up)),
        list(c.seed.map((r) => r.down)),
      ],
      ['ratio ours/seed', x(ratio.up), x(ratio.down), '', ''],
    ],
    notes: [
      `same namespaces, links and iptables rules (in order) after either up: ${c.identical ? 'yes' : 'NO'}`,
      "ours = platform up()/down() in process, as `ecomnet up --network-only` / `down` run them, without the CLI's Node start-up (see 3a); seed = one sh script, one process per line",
    ],
  });
  const cli = { up: med(c.cli, 'up') / med(c.seed, 'up'), down: med(c.cli, 'down') / med(c.seed, 'down') };
  tables.push({
    title: `1c. whole processes, as a person runs them: ecomnet up --network-only --detach / ecomnet down vs the seed's script (${c.cli.length} rounds)`,
    rows: [
      ['', 'up median', 'down median', 'up rounds (ms)', 'down rounds (ms)'],
      ['ecomnet CLI (Node start-up included)', ms(med(c.cli, 'up')), ms(med(c.cli, 'down')), list(c.cli.map((r) => r.up)), list(c.cli.map((r) => r.down))],
      ['seed script', ms(med(c.seed, 'up')), ms(med(c.seed, 'down')), '', ''],
      ['ratio CLI/seed', x(cli.up), x(cli.down), '', ''],
    ],
    notes: ['down waits until the kernel has really removed every namespace and veth (asynchronous); the seed script returns while they still exist'],
  });
  targets.push(target('1c', 'CLI up: ours/seed <= 0.5x', x(cli.up), cli.up <= 0.5), target('1c', 'CLI down: ours/seed <= 1x', x(cli.down), cli.down <= 1));
  tables.push({ title: '1a. where our up goes (median ms per step)', rows: [['step', 'ms'], ...stepRows(c.oursSteps.up, med(c.ours, 'up'))] });
  tables.push({ title: '1b. where our down goes (median ms per step)', rows: [['step', 'ms'], ...stepRows(c.oursSteps.down, med(c.ours, 'down'))] });
  targets.push(target('1', 'up: ours/seed <= 0.5x', x(ratio.up), ratio.up <= 0.5), target('1', 'down: ours/seed <= 0.5x', x(ratio.down), ratio.down <= 0.5));
}

function scaleSection(s: NetResult['scale'], tables: Table[], targets: Target[]): void {
  const per = (v: number, n: number) => `${(v / n).toFixed(1)} ms`;
  tables.push({
    title: '2. scale: namespaces on one bridge, network only (one round each)',
    rows: [['namespaces', 'up', 'down', 'up per node', 'down per node'], ...s.map((r) => [String(r.nodes), sec(r.up), sec(r.down), per(r.up, r.nodes), per(r.down, r.nodes)])],
  });
  const big = s[s.length - 1]!;
  const mid = s[s.length - 2]!;
  tables.push({
    title: `2a. where the ${big.nodes}-node up and down go (ms per step)`,
    rows: [['step', 'ms'], ...stepRows(big.steps.up, big.up).map(([k, v]) => [`up: ${k}`, v!]), ...stepRows(big.steps.down, big.down).map(([k, v]) => [`down: ${k}`, v!])],
  });
  const growth = (k: 'up' | 'down') => big[k] / big.nodes / (mid[k] / mid.nodes);
  targets.push(
    target('2', `${big.nodes} up < 10 s`, sec(big.up), big.up < 10_000),
    target('2', `${big.nodes} down < 10 s`, sec(big.down), big.down < 10_000),
    target('2', `up per node at ${big.nodes} <= 1.5x that at ${mid.nodes}`, x(growth('up')), growth('up') <= 1.5),
    target('2', `down per node at ${big.nodes} <= 1.5x that at ${mid.nodes}`, x(growth('down')), growth('down') <= 1.5),
  );
}

function coldSection(c: ColdStart, tables: Table[], targets: Target[]): void {
  const m = median(c.rounds);
  tables.push({
    title: `3. cold start: ecomnet up --detach until all healthy (${c.rounds.length} rounds, down between)`,
    rows: [
      ['', 'median', 'rounds (ms)'],
      ['CLI start to all healthy', ms(m), list(c.rounds)],
      ['CLI process wall time', ms(median(c.cli)), list(c.cli)],
      ['ecomnet down (between rounds)', c.downs.length ? ms(median(c.downs)) : '-', list(c.downs)],
    ],
  });
  // Work with no progress line of its own shows as a gap before the next step starts.
  let busyUntil = c.firstLineAt;
  const rows = c.steps.map((s) => {
    const start = s.doneAt - s.ms;
    const gap = Math.max(0, start - busyUntil);
    busyUntil = Math.max(busyUntil, s.doneAt);
    return [s.step, ms(s.ms), ms(start), ms(s.doneAt), ms(gap)];
  });
  tables.push({
    title: '3a. cold start timeline (medians, ms after the CLI process started)',
    rows: [
      ['step', 'took', 'started', 'done', 'unreported work before it'],
      ['node start-up, imports (first line printed)', ms(c.firstLineAt), ms(0), ms(c.firstLineAt), ''],
      ...rows,
      ['CLI exits (status table printed)', '', '', ms(median(c.cli)), ms(Math.max(0, median(c.cli) - busyUntil))],
    ],
    notes: ['Steps of one wave run in parallel; "unreported work" is time after everything earlier had finished, before this step began (e.g. initdb before postgres starts).'],
  });
  const { initdb, copy, templateBuild } = c.cluster;
  const ratio = median(copy) / median(initdb);
  tables.push({
    title: `3b. a fresh PostgreSQL cluster: a copy of the template (what up does) vs initdb (what it did), ${copy.length} rounds each, alternating`,
    rows: [
      ['', 'median', 'rounds (ms)', 'of the whole up (3)'],
      ['initdb, the orders database, the password', ms(median(initdb)), list(initdb), pct((median(initdb) / m) * 100)],
      ['copy of the template, the password', ms(median(copy)), list(copy), pct((median(copy) / m) * 100)],
      ['ratio copy/initdb', x(ratio), '', ''],
    ],
    notes: [
      templateBuild ? `this run made the template first (${ms(templateBuild)}): a machine's first up pays it once` : 'the template was already there (made by an earlier up)',
      'both flushed to disk, as the postgres account, as up makes them; the template lives in /var/lib/ecomnet/templates',
    ],
  });
  targets.push(target('3', 'cold start < 1.5 s', ms(m), m < 1500), target('3b', 'fresh cluster: copy/initdb <= 0.5x', x(ratio), ratio <= 0.5));
}

function loadRow(m: Measured): string[] {
  const e = m.wrk.errors;
  return [
    m.name,
    m.wrk.rps.toFixed(0),
    `${m.wrk.p50Ms.toFixed(2)} ms`,
    `${m.wrk.p99Ms.toFixed(2)} ms`,
    String(e.status),
    String(e.connect + e.read + e.write + e.timeout),
    m.logBytesPerRequest.toFixed(0),
  ];
}

/** Processes under this share in every run are summed into one row. */
const CPU_FOLD_PCT = 3;

function cpuTable(runs: Measured[]): Table {
  const share = (c: CpuShare, l: string) => c.byLabel[l] ?? 0;
  const labels = [...new Set(runs.flatMap((r) => Object.keys(r.cpu.byLabel)))];
  const shown = labels.filter((l) => runs.some((r) => share(r.cpu, l) >= CPU_FOLD_PCT));
  const rest = (c: CpuShare) => labels.filter((l) => !shown.includes(l)).reduce((a, l) => a + share(c, l), 0);
  return {
    title: 'CPU during each measured window (% of one core; the host has 2)',
    rows: [
      ['process', ...runs.map((r) => r.name.split(' (')[0]!)],
      ...shown.map((l) => [l, ...runs.map((r) => pct(share(r.cpu, l)))]),
      [`everything else (each < ${CPU_FOLD_PCT}%)`, ...runs.map((r) => pct(rest(r.cpu)))],
      ['kernel softirq (packets: bridge, veth, netfilter, TCP)', ...runs.map((r) => pct(r.cpu.softirqPct))],
      ['whole host busy (of 2 cores)', ...runs.map((r) => pct(r.cpu.hostBusyPct))],
    ],
  };
}

function loadSections(r: Results, tables: Table[], targets: Target[]): void {
  const header = ['load (64 connections, 10 s)', 'req/s', 'p50', 'p99', 'non-2xx', 'socket errors', 'log B/req'];
  const runs: Measured[] = [];
  if (r.get) {
    const { chain, direct, ceiling } = r.get;
    runs.push(chain, direct, ceiling);
    const share = chain.wrk.rps / direct.wrk.rps;
    // With both cores saturated, req/s is bounded by CPU time per request: the chain can reach
    // at most direct's CPU per request divided by its own, whatever the code does.
    const cpuPerReq = (m: Measured) => ((m.cpu.hostBusyPct / 100) * r.host.cores * 1000) / m.wrk.rps;
    const bound = cpuPerReq(direct) / cpuPerReq(chain);
    tables.push({
      title: `4. GET data path (load tool: ${r.loadTool})`,
      rows: [header, loadRow(chain), loadRow(direct), loadRow(ceiling)],
      notes: [
        `chain/direct ${pct(share * 100)}, chain/ceiling ${pct((chain.wrk.rps / ceiling.wrk.rps) * 100)}; X-Cache on the chain: ${r.get.cacheHit ? 'HIT' : 'not HIT'}`,
        `CPU per request (ms of one core, whole host: wrk, nginx, gateway, product, Redis, kernel): chain ${cpuPerReq(chain).toFixed(3)}, direct ${cpuPerReq(direct).toFixed(3)}; host busy ${pct(chain.cpu.hostBusyPct)} / ${pct(direct.cpu.hostBusyPct)}`,
        `so on ${r.host.cores} saturated cores the chain can reach at most ${pct(bound * 100)} of direct: it runs three servers' work (nginx, the gateway's proxying, the product service) where direct runs one`,
        r.host.bridgeNetfilter
          ? `br_netfilter is on (Docker loaded it): the chain's two hops across ${topology.app.bridge.name} also pass iptables and conntrack, as on a GitHub runner`
          : `br_netfilter is off: hops across ${topology.app.bridge.name} are bridged without iptables`,
      ],
    });
    targets.push(
      target('4', 'chain >= 30% of direct (req/s)', pct(share * 100), share >= 0.3),
      target('4', 'chain >= 40% of direct (req/s)', pct(share * 100), share >= 0.4),
      target('4', '>= 4000 GET/s through nginx', chain.wrk.rps.toFixed(0), chain.wrk.rps >= 4000),
      target('4', 'chain p99 < 50 ms', `${chain.wrk.p99Ms.toFixed(1)} ms`, chain.wrk.p99Ms < 50),
    );
  }
  if (r.placement) {
    const { chain, direct, cpus } = r.placement;
    const median = (ms: Measured[]) => ms.map((m) => m.wrk.rps).sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
    const gain = (p: { placed: Measured[]; floating: Measured[] }) => median(p.placed) / median(p.floating);
    const runs4c = (p: { placed: Measured[]; floating: Measured[] }) => p.floating.flatMap((f, i) => [loadRow(f), loadRow(p.placed[i]!)]);
    tables.push({
      title: '4c. GET: the servers on the CPUs up placed them, against the same processes let float (alternating, same run)',
      rows: [header, ...runs4c(chain), ...runs4c(direct)],
      notes: [
        `placed/floating, median req/s: the chain ${gain(chain).toFixed(2)}x (${median(chain.placed).toFixed(0)} / ${median(chain.floating).toFixed(0)}), product direct ${gain(direct).toFixed(2)}x (${median(direct.placed).toFixed(0)} / ${median(direct.floating).toFixed(0)})`,
        `chain/direct with both placed ${pct((median(chain.placed) / median(direct.placed)) * 100)}, with both let float ${pct((median(chain.floating) / median(direct.floating)) * 100)}`,
        `CPUs: ${Object.entries(cpus)
          .map(([ns, c]) => `${ns} ${c}`)
          .join(', ')}: consecutive hops of a request on different CPUs (src/runtime/placement.ts); let float: every CPU allowed (taskset -a -p), the scheduler free to move them`,
      ],
    });
    targets.push(
      target('4c', 'the chain placed faster than let float', `${gain(chain).toFixed(2)}x`, gain(chain) > 1),
      target('4c', 'product direct placed within 10% of let float', `${gain(direct).toFixed(2)}x`, gain(direct) >= 0.9),
    );
  }
  if (r.orders) {
    const o = r.orders;
    runs.push(o);
    const others =
      Object.entries(o.wrk.statuses ?? {})
        .filter(([s]) => s !== '201')
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ') || 'none';
    tables.push({
      title: '5. POST /api/orders via nginx (seed payload)',
      rows: [header, loadRow(o)],
      notes: [`201 answers: ${o.created}; other statuses: ${others}; rows added in PostgreSQL: ${o.rowsAdded} (${o.rowsAdded === o.created ? 'equal' : 'DIFFERENT'})`],
    });
    targets.push(
      target('5', '>= 1200 orders/s', o.wrk.rps.toFixed(0), o.wrk.rps >= 1200),
      target('5', 'rows added == 201 answers', `${o.rowsAdded} rows / ${o.created} x 201`, o.rowsAdded === o.created && o.created > 0),
    );
  }
  if (runs.length) tables.push(cpuTable(runs));
}

function memorySection(mem: NonNullable<Results['memory']>, tables: Table[], targets: Target[]): void {
  const after = mem.afterLoad ?? [];
  const sum = (xs: Rss[], k: 'rssMb' | 'anonMb' | 'fileMb' | 'pssMb') => xs.reduce((a, m) => a + m[k], 0);
  const mb = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} MB`);
  tables.push({
    title: '6. memory of our Node services (VmRSS), idle after start and after the load',
    rows: [
      ['service', 'pid', 'RSS idle', 'RSS after load', 'anon', 'file (node binary, shared)', 'PSS'],
      ...mem.idle.map((i) => {
        const a = after.find((m) => m.pid === i.pid);
        return [i.name, `${i.pid} (${i.exe.split('/').pop()})`, mb(i.rssMb), mb(a?.rssMb), mb(a?.anonMb), mb(a?.fileMb), mb(a?.pssMb)];
      }),
      ['total', '', mb(sum(mem.idle, 'rssMb')), mb(sum(after, 'rssMb')), mb(sum(after, 'anonMb')), mb(sum(after, 'fileMb')), mb(sum(after, 'pssMb'))],
      ...(mem.bareNode
        ? [['floor: 3 x a bare idle Node with the same flags', '', mb(3 * mem.bareNode.rssMb), '', mb(3 * mem.bareNode.anonMb), mb(3 * mem.bareNode.fileMb), mb(3 * mem.bareNode.pssMb)]]
        : []),
    ],
    notes: mem.bareNode
      ? [
          `each Node process maps ${mb(mem.bareNode.fileMb)} of the node binary and its libraries before running any code (counted in every RSS, shared in fact: see PSS); three services start at ${mb(3 * mem.bareNode.rssMb)} of RSS`,
        ]
      : [],
  });
  if (after.length) targets.push(target('6', 'RSS of the 3 services after load <= 250 MB', `${sum(after, 'rssMb').toFixed(0)} MB`, sum(after, 'rssMb') <= 250));
  if (mem.platform) platformFootprintSection(mem.platform, tables, targets);
}

/** Budgets of the whole idle platform (issue 22): processes and proportional memory. */
const PLATFORM_BUDGET = { processes: 14, pssMb: 200 };

function platformFootprintSection(f: Footprint, tables: Table[], targets: Target[]): void {
  // One row per kind of process (the three services, PostgreSQL's backends), each with its count.
  const kinds = new Map<string, { n: number; pssMb: number }>();
  for (const p of f.processes) {
    const kind = p.what.replace(/\(\d+\)|\d+\.\d+\.\d+\.\d+:?\d*/g, '').trim();
    const k = kinds.get(kind) ?? { n: 0, pssMb: 0 };
    kinds.set(kind, { n: k.n + 1, pssMb: k.pssMb + p.pssMb });
  }
  tables.push({
    title: '6b. the whole platform, idle after `up`: every process (namespaces, supervisor, log keepers) and its PSS',
    rows: [
      ['process', 'count', 'PSS'],
      ...[...kinds].sort((a, b) => b[1].pssMb - a[1].pssMb).map(([kind, k]) => [kind, String(k.n), `${k.pssMb.toFixed(1)} MB`]),
      ['total', String(f.processes.length), `${f.pssMb.toFixed(1)} MB`],
    ],
    notes: ['PSS divides shared pages (the node binary, libc) among the processes mapping them, so the total is what the platform costs the machine'],
  });
  targets.push(
    target('6b', `idle platform <= ${PLATFORM_BUDGET.processes} processes`, String(f.processes.length), f.processes.length <= PLATFORM_BUDGET.processes),
    target('6b', `idle platform <= ${PLATFORM_BUDGET.pssMb} MB PSS`, `${f.pssMb.toFixed(0)} MB`, f.pssMb <= PLATFORM_BUDGET.pssMb),
  );
}

function observerSection(o: ObserverCost, cores: number, tables: Table[], targets: Target[]): void {
  const p = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}%` : '-');
  tables.push({
    title: `8. ecomnet observe's own cost at ${(1000 / o.intervalMs).toFixed(0)} Hz on the running platform (${o.seconds.toFixed(0)} s, ${o.samples} samples, ${cores} cores)`,
    rows: [
      ['', '% of one core'],
      ['the observer in Node (sampling, health probes, bookkeeping)', p(o.selfPct)],
      ['its privileged reader and what it runs (descendants, from /proc)', p(o.childrenPct)],
      ['total', p(o.totalPct)],
      ['as the observer reports itself (mean of Snapshot.observer.cpuPercent)', p(o.reportedPct)],
      ['ratio total / budget', x(o.totalPct / OBSERVER_BUDGET_PCT)],
    ],
    notes: [`median time one sample took: ${Number.isFinite(o.sampleMs) ? ms(o.sampleMs) : '-'}`],
  });
  const seen = o.downToUnhealthyMs.filter((v) => v !== null);
  const missed = o.downToUnhealthyMs.length - seen.length;
  tables.push({
    title: `8a. ${o.stopped} stopped (SIGSTOP: it stops answering, the supervisor sees no exit) to the first sample marking it unhealthy, ${o.downToUnhealthyMs.length} trials`,
    rows: [
      ['median', 'max', 'trials (ms)'],
      [seen.length ? ms(median(seen)) : '-', seen.length ? ms(Math.max(...seen)) : '-', o.downToUnhealthyMs.map((v) => (v === null ? 'none in 10 s' : v.toFixed(0))).join(', ')],
    ],
    notes: [
      `each trial starts at a random phase of the sampling interval; a sample marks it unhealthy once its probe times out (${ms(PROBE_TIMEOUT_MS)}); the page is sent each sample as it is taken`,
    ],
  });
  targets.push(
    target('8', `observer under ${OBSERVER_BUDGET_PCT}% of one core at 1 Hz`, `${p(o.totalPct)} (${x(o.totalPct / OBSERVER_BUDGET_PCT)} the budget)`, o.totalPct < OBSERVER_BUDGET_PCT),
    target(
      '8a',
      `a service down shows unhealthy within ${RED_WITHIN_MS / 1000} s`,
      seen.length ? `max ${ms(Math.max(...seen))}${missed ? `, ${missed} never` : ''}` : 'never seen',
      missed === 0 && seen.length > 0 && Math.max(...seen) <= RED_WITHIN_MS,
    ),
  );
}

/** What a verify round printed, short: its score and exit code. */
const scoreOf = (r: VerifyRun) => `${r.score ?? 'no score'} (exit ${r.exitCode})`;
/** Results per round, said once when every round said the same. */
const perRound = (xs: string[]) => (xs.length > 1 && xs.every((v) => v === xs[0]) ? `${xs[0]} ${xs.length === 2 ? 'in both' : `in all ${xs.length}`}` : xs.join(', '));

/** Verify's wall time cut where its own lines show it: each phase ends with the line named. */
const VERIFY_PHASES: { name: string; of: (r: VerifyRun) => number | undefined }[] = [
  { name: 'CLI start: Node start-up, CLI imports (its first line)', of: (r) => r.firstLineAt },
  { name: 'privileges, the outside probe, discovery of the host (to `judging N deliverables with M checks`)', of: (r) => (r.judgingAt === undefined ? undefined : r.judgingAt - r.firstLineAt) },
  {
    name: 'the checks side by side, the reachability matrix, diagnosis, discovery again, the reports (to the first deliverable line)',
    of: (r) => (r.verdictsAt === undefined || r.judgingAt === undefined ? undefined : r.verdictsAt - r.judgingAt),
  },
  { name: 'CLI end: the lines printed, exit', of: (r) => (r.verdictsAt === undefined ? undefined : r.ms - r.verdictsAt) },
];

function verifySection(v: VerifyBench, tables: Table[], targets: Target[]): void {
  const vm = median(v.runs.map((r) => r.ms));
  const sm = median(v.seed.map((s) => s.ms));
  // Per command, the median over the rounds that reached it; summed by tool.
  const byTool = new Map<string, { n: number; ms: number; unreached: number }>();
  v.seedCommands.forEach((c, i) => {
    const times = v.seed.map((s) => s.perCommand[i]).filter((t) => t !== undefined);
    const agg = byTool.get(c.tool) ?? { n: 0, ms: 0, unreached: 0 };
    byTool.set(c.tool, { n: agg.n + 1, ms: agg.ms + (times.length ? median(times) : 0), unreached: agg.unreached + (times.length ? 0 : 1) });
  });
  const ping = byTool.get('ping');
  tables.push({
    title: `7. ecomnet verify against the running platform, a whole process, vs the seed's own checks in one bash script (${v.runs.length} rounds each, alternated)`,
    rows: [
      ['', 'median', 'rounds (ms)', 'result per round'],
      ['node bin/ecomnet.js verify --reports TMP', ms(vm), list(v.runs.map((r) => r.ms)), perRound(v.runs.map(scoreOf))],
      [`seed's checks: ${v.seedCommands.length} commands, one bash process`, ms(sm), list(v.seed.map((s) => s.ms)), perRound(v.seed.map((s) => (s.exitCode ? `exit ${s.exitCode}` : 'ok')))],
      ['ratio verify/seed', x(vm / sm), '', ''],
    ],
    notes: [
      ...v.runs.flatMap((r, i) => (scoredAll(r) ? [] : [`verify round ${i + 1} FAILED (exit ${r.exitCode}): ${r.failures.join(' / ') || 'no output'}`])),
      ...v.seed.flatMap((s, i) => (s.failed ? [`seed checks round ${i + 1} FAILED at ${s.failed}`] : [])),
      `the seed's commands as its deliverables show them: ${v.seedCommands.map((c) => c.tool).join(', ')}; left out: ${v.skipped.join('; ')}`,
      ...(ping ? [`ping sends one packet a second: its ${ping.n} runs (-c 2, and -c 3 to the simulated internet host instead of 8.8.8.8) take ${ms(ping.ms)} of the seed's median`] : []),
      ...(v.orderRows !== null ? [`the seed's \`SELECT * FROM orders\` prints every row: ${v.orderRows} when the rounds began (section 5 writes most of them)`] : []),
    ],
  });
  tables.push({
    title: "7a. the seed's checks by tool (median per command over the rounds, summed)",
    rows: [['tool', 'commands', 'ms'], ...[...byTool].sort((a, b) => b[1].ms - a[1].ms).map(([tool, t]) => [tool, `${t.n}${t.unreached ? ` (${t.unreached} never reached)` : ''}`, ms(t.ms)])],
  });
  const timed = v.runs.filter((r) => VERIFY_PHASES.every((p) => p.of(r) !== undefined));
  if (timed.length) {
    const med = VERIFY_PHASES.map((p) => median(timed.map((r) => p.of(r)!)));
    const total = med.reduce((a, b) => a + b, 0);
    const probes = timed.flatMap((r) => (r.probeMs === undefined ? [] : [r.probeMs]));
    tables.push({
      title: `7b. where verify's time goes (median of each phase over ${timed.length} rounds)`,
      rows: [['phase', 'ms', 'share'], ...VERIFY_PHASES.map((p, i) => [p.name, ms(med[i]!), pct((med[i]! / total) * 100)]), ['sum of the medians', ms(total), '']],
      notes: [
        probes.length
          ? `verify added its outside probe in ${ms(median(probes))} (median, as it printed it), within the second phase`
          : "no probe line: the platform's own outside segment (the external client and the internet host) stood in as it was, so verify added nothing",
        `as printed: ${timed[0]!.judged}`,
      ],
    });
  }
  targets.push(
    target('7', 'verify under 2.5 s on 2 cores (median, whole process)', sec(vm), vm < 2500),
    target('7', `every round scored ${FULL} (exit 0)`, perRound(v.runs.map(scoreOf)), v.runs.length > 0 && v.runs.every(scoredAll)),
  );
}

function brokenVerifySection(b: BrokenVerifyBench, working: VerifyBench | undefined, tables: Table[], targets: Target[]): void {
  const m = median(b.runs.map((r) => r.ms));
  const must = [...b.mustFail].sort().join(', ');
  const right = (r: VerifyRun) => r.exitCode === 1 && [...r.failed].sort().join(', ') === must && r.diagnoses.includes(b.diagnosis);
  const failedSets = new Set(b.runs.map((r) => [...r.failed].sort().join(', ')));
  tables.push({
    title: `7c. verify of a broken platform (${b.fault}), ${b.runs.length} rounds`,
    rows: [
      ['', 'median', 'rounds (ms)', 'result per round'],
      ['node bin/ecomnet.js verify --reports TMP', ms(m), list(b.runs.map((r) => r.ms)), perRound(b.runs.map(scoreOf))],
      ...(working ? [['ratio to verify of the working platform (7)', x(m / median(working.runs.map((r) => r.ms))), '', '']] : []),
    ],
    notes: [
      `must fail exactly what routes through the host: ${must}; failed: ${[...failedSets].map((f) => f || 'nothing').join(' | ')}`,
      `causes named: ${[...new Set(b.runs.flatMap((r) => r.diagnoses))].join(', ') || 'none'} (must include ${b.diagnosis})`,
      'a failing probe waits for its timeout (curl -m through the host port, ping -W); the checks run side by side, so the waits overlap instead of adding up',
      'forwarding was put back after the rounds',
    ],
  });
  targets.push(
    target('7c', 'verify of a broken platform under 6 s (median)', sec(m), m < 6000),
    target(
      '7c',
      `fails exactly the ${b.mustFail.length} deliverables routed through the host, names ${b.diagnosis}`,
      perRound(b.runs.map((r) => (right(r) ? 'right' : 'WRONG'))),
      b.runs.length > 0 && b.runs.every(right),
    ),
  );
}

const cpu = (v: number) => `${v.toFixed(2)} s`;

function vhostSection(v: VhostBench, tables: Table[], targets: Target[]): void {
  const made = median(v.create);
  const row = (what: string, xs: number[]) => [what, ms(median(xs)), ms(Math.min(...xs)), ms(Math.max(...xs))];
  tables.push({
    title: `7d (a). virtual hosts made and removed, one after another (${v.create.length} cycles)`,
    rows: [['', 'median', 'min', 'max'], row('VirtualHost.create(): its PID 1 ready, eth0 and the world behind it up', v.create), row('destroy(): its PID 1 exited', v.destroy)],
    notes: ['destroy returns once the PID 1 has exited; the kernel frees the namespaces, links and mounts after that, on its own'],
  });
  const STEP: Record<BuildStep, string> = {
    host: 'making the virtual host',
    build: 'the build (learner/build.sh: namespaces, rules, PostgreSQL, Redis, nginx, 3 Flask services)',
    grade: 'grading inside it (discovery, the checks, diagnosis)',
    removal: 'removal',
  };
  const med = (runs: BuildRun[], f: (r: BuildRun) => number) => (runs.length ? median(runs.map(f)) : Number.NaN);
  const cells = (step: (r: BuildRun) => Spent) => {
    const [tw, tc, iw, ic] = [med(v.template, (r) => step(r).ms), med(v.template, (r) => step(r).cpuS), med(v.initdb, (r) => step(r).ms), med(v.initdb, (r) => step(r).cpuS)];
    return [ms(tw), cpu(tc), ms(iw), cpu(ic), `${ms(iw - tw)} / ${cpu(ic - tc)}`];
  };
  tables.push({
    title: `7d (b). where one build-and-verify goes (gradeBuild of learner/build.sh, Flask, PostgreSQL on the host; median of ${v.template.length} runs each, alternated)`,
    rows: [
      ['step', 'wall, template', 'CPU, template', 'wall, initdb', 'CPU, initdb', 'the template saves (wall / CPU)'],
      ...BUILD_STEPS.map((s) => [STEP[s], ...cells((r) => r.steps[s])]),
      ['total', ...cells((r) => r.total)],
    ],
    notes: [
      `CPU is the whole machine's busy time over the step (/proc/stat: user + nice + system + irq + softirq, at ${v.clockTick} ticks a second): everything running is counted, so the bench must run alone`,
      `template: learner/pg-template.sh ran initdb once (${ms(v.templateMs)}) and each build copies its cluster (LEARNER_PGDATA_TEMPLATE); initdb: each build runs its own`,
      `scores: template ${perRound(v.template.map((r) => r.score))}; initdb ${perRound(v.initdb.map((r) => r.score))}`,
      'each cell is the median over the runs of that step alone: they need not add up to the total',
    ],
  });
  const all = [...v.template, ...v.initdb];
  targets.push(
    target('7d', 'a virtual host made in well under 50 ms (median)', `${ms(made)} (removed in ${ms(median(v.destroy))})`, made < 50),
    target('7d', `every build-and-verify scored ${FULL}`, perRound(all.map((r) => r.score)), all.length > 0 && all.every((r) => r.score === FULL && r.buildExit === 0)),
  );
}

function twoHostsSection(h: TwoHostsBench, tables: Table[], targets: Target[]): void {
  const [one, two] = [median(h.oneHost), median(h.twoHosts)];
  const [bridge, overlay] = [median(h.bridgeMBps), median(h.overlayMBps)];
  const mbps = (x: number) => `${x.toFixed(0)} MB/s`;
  tables.push({
    title: `9. course day 6: the platform across two hosts, in virtual hosts (median of ${h.oneHost.length} rounds each, alternated)`,
    rows: [
      ['', 'one host', 'two hosts', 'ratio'],
      ['cold start: host(s) made, every service healthy', ms(one), ms(two), `${(two / one).toFixed(2)}x`],
      [`one TCP stream nginx-lb -> redis-cache (${h.streamBytes / 2 ** 20} MiB): the bridge, then across the overlay`, mbps(bridge), mbps(overlay), `${(overlay / bridge).toFixed(2)}x`],
    ],
    notes: [
      'one host: the default topology `up --detach` in a virtual host of its own; two hosts: `up --topology two-hosts --virtual-hosts` (both halves side by side); each PostgreSQL made by initdb (the hosts keep no template)',
      "the stream: network only, --policy open (its port is none of the platform's flows), the overlay at MTU 1450 over a 1500-byte underlay (VXLAN, UDP 4789)",
    ],
  });
  targets.push(target('9', 'the two-host platform comes up in under 2x the one-host cold start', `${ms(two)} vs ${ms(one)} (${(two / one).toFixed(2)}x)`, two < 2 * one));
}

function classSection(c: ClassBench, cores: number, tables: Table[], targets: Target[]): void {
  const alone = { ms: median(c.alone.map((a) => a.ms)), cpuS: median(c.alone.map((a) => a.cpuS)) };
  const ratio = c.whole.ms / alone.ms;
  const own = c.rows.reduce((a, r) => a + r.ms, 0);
  const busy = (s: Spent) => `${(s.cpuS / (s.ms / 1000)).toFixed(2)} of ${cores}`;
  tables.push({
    title: `7e. ecomnet grade of ${c.rows.length} builds, --jobs ${c.jobs} (gradeClass), vs one build graded alone the same way`,
    rows: [
      ['', 'wall', 'runs (ms)', "the machine's CPU", 'cores busy', 'ratio to one alone'],
      ['one build alone (the unmutated one; before and after the class)', ms(alone.ms), list(c.alone.map((a) => a.ms)), cpu(alone.cpuS), busy(alone), ''],
      [`${c.rows.length} builds, ${c.jobs} at a time`, sec(c.whole.ms), '', cpu(c.whole.cpuS), busy(c.whole), x(ratio)],
    ],
    notes: [
      `ideal with ${c.jobs} at a time: ${x(c.rows.length / c.jobs)}, if every build cost what the unmutated one does alone; the builds' own times add up to ${sec(own)} (${sec(own / c.jobs)} per job)`,
      "a mutant's failing checks wait for their timeouts, and two builds share the machine's cores: CPU is the whole machine's, as in 7d",
      `with all ${cores} cores busy throughout, the class's CPU would still take ${sec((c.whole.cpuS / cores) * 1000)}: ${x(((c.whole.cpuS / cores) * 1000) / alone.ms)} one alone`,
      `the unmutated build alone scored ${perRound(c.aloneScores)}`,
    ],
  });
  tables.push({
    title: "7e (each build). learner/build.sh and 7 of the grader's mutants, as graded in the class",
    rows: [['build', 'score', 'verdict', 'its own time', 'as the catalogue expects'], ...c.rows.map((r) => [r.name, r.score, r.verdict, sec(r.ms), r.asExpected ? 'yes' : 'NO'])],
  });
  targets.push(
    target('7e', `${c.rows.length} builds with --jobs ${c.jobs} at most 4.5x one alone`, x(ratio), ratio <= 4.5),
    target('7e', 'every build judged as the catalogue expects', `${c.rows.filter((r) => r.asExpected).length}/${c.rows.length}`, c.rows.length > 0 && c.rows.every((r) => r.asExpected)),
  );
}

export function summarize(r: Results): { tables: Table[]; targets: Target[] } {
  const tables: Table[] = [];
  const targets: Target[] = [];
  if (r.spawn)
    tables.push({
      title: '0. cost of starting one process on this host (/bin/true)',
      rows: [
        ['from', 'ms per process'],
        ['Node child_process, as the platform runs each command', r.spawn.nodeMs.toFixed(1)],
        ['sh, as the seed script does', r.spawn.shMs.toFixed(1)],
      ],
    });
  if (r.network) {
    compareSection(r.network.compare, tables, targets);
    scaleSection(r.network.scale, tables, targets);
  }
  if (r.coldStart) coldSection(r.coldStart, tables, targets);
  loadSections(r, tables, targets);
  if (r.memory) memorySection(r.memory, tables, targets);
  if (r.verify) verifySection(r.verify, tables, targets);
  if (r.brokenVerify) brokenVerifySection(r.brokenVerify, r.verify, tables, targets);
  if (r.vhost) vhostSection(r.vhost, tables, targets);
  if (r.classGrade) classSection(r.classGrade, r.host.cores, tables, targets);
  if (r.twoHosts) twoHostsSection(r.twoHosts, tables, targets);
  if (r.observer) observerSection(r.observer, r.host.cores, tables, targets);
  if (r.hostClean)
    targets.push(target('-', 'host left clean (netns, links, iptables, ip_forward, /var/tmp/ecomnet-bench-*)', r.hostClean.clean ? 'clean' : r.hostClean.leftovers.join('; '), r.hostClean.clean));
  tables.push({ title: 'targets', rows: [['section', 'target', 'measured', 'result'], ...targets.map((t) => [t.section, t.target, t.measured, t.met ? 'met' : 'NOT MET'])] });
  return { tables, targets };
}
