import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { addressOf, hostPort, nodeOf, topology } from '../src/topology/default.ts';
import { postgresUrl } from '../src/data/postgres.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { readState, type ServiceRecord } from '../src/host/state.ts';
import { readSecrets } from '../src/runtime/secrets.ts';
import { SERVICE_NODE_FLAGS } from '../src/services/config.ts';
import { priv } from '../src/host/exec.ts';
import { setAffinity, usableCpus } from '../src/runtime/placement.ts';
import { cpuSampler, type CpuShare } from './cpu.ts';
import { wrk, type Load, type WrkResult } from './wrk.ts';

/** Sections 4-6, against the real platform: GET throughput, POST throughput with a row check, memory. */

const CONNECTIONS = 64;
const SECONDS = 10;
// Lets V8 optimise the services' hot paths before the measured window; not counted.
const WARMUP_SECONDS = 2;
// The seed's order (task 3), byte for byte as its curl sends it.
export const SEED_ORDER = '{"customer_id": "cust-101", "product_id": "prod-201", "quantity": 2, "total_price": 150.00}';

export interface Measured {
  name: string;
  wrk: WrkResult;
  cpu: CpuShare;
  /** Service log bytes written per request: the cost of per-request logging. */
  logBytesPerRequest: number;
}

/** The main platform's run directory, the one the CLI uses. */
const runDir = runDirAt();
const edge = (path: string) => `http://localhost:${hostPort(topology)}${path}`;

function services(): ServiceRecord[] {
  const s = readState(runDir);
  if (!s?.services.length) throw new Error('the platform is not up');
  return s.services;
}

function logBytes(): number {
  return readdirSync(runDir.logs).reduce((n, f) => n + statSync(join(runDir.logs, f)).size, 0);
}

type Shape = Omit<Load, 'connections' | 'seconds'>;

const warmUp = (url: string, load: Shape = {}) => wrk(url, { ...load, connections: CONNECTIONS, seconds: WARMUP_SECONDS });

async function measure(name: string, url: string, load: Shape = {}): Promise<Measured> {
  const logs0 = logBytes();
  const cpu = cpuSampler(services());
  const w = await wrk(url, { ...load, connections: CONNECTIONS, seconds: SECONDS });
  return { name, wrk: w, cpu: cpu(), logBytesPerRequest: (logBytes() - logs0) / Math.max(1, w.requests) };
}

export interface GetResult {
  /** The second GET through nginx reported X-Cache: HIT, so the chain measures cache hits. */
  cacheHit: boolean;
  chain: Measured;
  direct: Measured;
  ceiling: Measured;
}

export async function getThroughput(): Promise<GetResult> {
  const chainUrl = edge('/api/products');
  await fetch(chainUrl).then((r) => r.arrayBuffer());
  const second = await fetch(chainUrl);
  await second.arrayBuffer();
  const directUrl = `http://${addressOf('product')}/products`;
  const cacheHit = second.headers.get('x-cache') === 'HIT';
  if (second.status !== 200) throw new Error(`GET ${chainUrl} answered ${second.status}: not the chain to measure`);
  await warmUp(chainUrl);
  const chain = await measure('nginx -> gateway -> product (GET /api/products)', chainUrl);
  // This host is exempt from nginx's rate limit (its geo block): a 429 page measured would be nginx alone.
  if (chain.wrk.errors.status) throw new Error(`${chain.wrk.errors.status} answers of the chain were not 2xx/3xx (rate limited?): its req/s would not be the chain's`);
  await warmUp(directUrl);
  const direct = await measure(`product direct (GET ${addressOf('product')}/products)`, directUrl);
  await warmUp(edge('/health'));
  const ceiling = await measure('nginx /health (ceiling)', edge('/health'));
  return { cacheHit, chain, direct, ceiling };
}

export interface PlacementResult {
  /** The namespaces up placed (placement.ts), with their CPUs. */
  cpus: Record<string, string>;
  /** Per path, the runs on the placed CPUs and those with every CPU allowed, alternating. */
  chain: { placed: Measured[]; floating: Measured[] };
  direct: { placed: Measured[]; floating: Measured[] };
}

const cpusOf = (pid: number) => /^Cpus_allowed_list:\s*(\S+)/m.exec(readOr(`/proc/${pid}/status`, ''))?.[1];

/** Every thread of every process in the namespace (nginx's workers, PostgreSQL's backends) on `cpus`. */
async function pinNamespace(ns: string, cpus: string): Promise<void> {
  const { stdout } = await priv(['ip', 'netns', 'pids', ns]);
  await setAffinity(cpus, stdout.split('\n').filter(Boolean).map(Number));
}

const PLACEMENT_ROUNDS = 3;

/**
 * Section 4c, the baseline of up's CPU placement in the same run: the chain and product direct,
 * each measured with the servers on the CPUs up gave them and with the same processes let float
 * (every CPU allowed, the scheduler free to move them), alternating. Absent when up placed nothing.
 */
export async function placementGain(): Promise<PlacementResult | undefined> {
  const all = usableCpus().join(',');
  const placed = Object.fromEntries(
    services()
      .map((s) => [s.ns, cpusOf(s.pid)] as const)
      .filter(([, cpus]) => cpus && cpus !== all),
  ) as Record<string, string>;
  if (!Object.keys(placed).length) return undefined;
  const paths = { chain: edge('/api/products'), direct: `http://${addressOf('product')}/products` };
  const result: PlacementResult = { cpus: placed, chain: { placed: [], floating: [] }, direct: { placed: [], floating: [] } };
  const place = async (how: 'placed' | 'floating') => {
    for (const [ns, cpus] of Object.entries(placed)) await pinNamespace(ns, how === 'placed' ? cpus : all);
    for (const path of ['chain', 'direct'] as const) {
      await warmUp(paths[path]);
      result[path][how].push(await measure(`${path === 'chain' ? 'the chain' : 'product direct'}, ${how === 'placed' ? 'on the CPUs up placed it' : 'let float'}`, paths[path]));
    }
  };
  try {
    for (let round = 0; round < PLACEMENT_ROUNDS; round++) {
      await place('floating');
      await place('placed');
    }
  } finally {
    for (const [ns, cpus] of Object.entries(placed)) await pinNamespace(ns, cpus);
  }
  return result;
}

export async function countOrders(): Promise<number> {
  const secrets = readSecrets(runDir);
  if (!secrets) throw new Error(`no ${runDir.secrets}: is the platform up?`);
  const db = nodeOf('postgres');
  const client = new pg.Client({ connectionString: postgresUrl({ host: db.ip, port: db.port!, password: secrets.postgres }) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

export interface OrderResult extends Measured {
  created: number;
  rowsAdded: number;
}

/** POST /api/orders: every 201 must be exactly one new row (no lost and no phantom writes). */
export async function orderThroughput(): Promise<OrderResult> {
  const post = { body: SEED_ORDER, contentType: 'application/json' };
  const url = edge('/api/orders');
  // The warm-up creates rows too, so the count starts after it, and it is exact: a plain run leaves
  // up to one request per connection in flight, whose row could be committed after the count.
  await warmUp(url, { post, exact: true });
  const before = await countOrders();
  const m = await measure('POST /api/orders via nginx', url, { post, exact: true });
  return { ...m, created: m.wrk.statuses?.['201'] ?? 0, rowsAdded: (await countOrders()) - before };
}

export interface Rss {
  name: string;
  pid: number;
  /** argv[0]: the recorded pid is the server itself, not a wrapper (ip netns exec and setpriv exec). */
  exe: string;
  rssMb: number;
  /** RSS split: private memory (V8 heap, malloc) vs mapped files (the node binary, shared by all three). */
  anonMb: number;
  fileMb: number;
  /** Proportional share: shared pages divided among the processes mapping them. */
  pssMb: number;
}

const kbField = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;

/**
 * The floor under the services' memory: a bare Node process with the services' flags, idle.
 * Three of them are what three services cost before any code of ours runs.
 */
export async function bareNodeRss(): Promise<Omit<Rss, 'name' | 'pid' | 'exe'>> {
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  try {
    // Long enough for start-up to settle; RSS no longer grows after it.
    await new Promise((r) => setTimeout(r, 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
    return { rssMb: kbField(status, 'VmRSS'), anonMb: kbField(status, 'RssAnon'), fileMb: kbField(status, 'RssFile'), pssMb: kbField(rollup, 'Pss') };
  } finally {
    child.kill();
  }
}

/** Resident memory of our three Node services, from the pids the state file records. */
export function serviceRss(): Rss[] {
  return services()
    .filter((s) => ['gateway', 'product', 'order'].includes(s.name))
    .map((s) => {
      const status = readFileSync(`/proc/${s.pid}/status`, 'utf8');
      const rollup = readFileSync(`/proc/${s.pid}/smaps_rollup`, 'utf8');
      const exe = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0')[0] ?? '?';
      return { name: s.name, pid: s.pid, exe, rssMb: kbField(status, 'VmRSS'), anonMb: kbField(status, 'RssAnon'), fileMb: kbField(status, 'RssFile'), pssMb: kbField(rollup, 'Pss') };
    });
}

export interface Footprint {
  /** One row per process: its pid, what it is (argv[0] and, for Node, its script) and its PSS. */
  processes: { pid: number; what: string; pssMb: number }[];
  pssMb: number;
}

const readOr = (file: string, otherwise: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return otherwise;
  }
};

/** This process and those above it (a shell whose command line names the run directory is not the platform's). */
function ancestors(): Set<number> {
  const found = new Set<number>();
  for (
    let pid = process.pid;
    pid > 1 && !found.has(pid);
    pid = Number(
      readOr(`/proc/${pid}/stat`, '')
        .replace(/^.*\) \S+ /, '')
        .split(' ')[0],
    )
  )
    found.add(pid);
  return found;
}

/**
 * Every process the platform runs: those in its namespaces, its supervisor, and any other whose
 * command line names its run directory (a log keeper), with their PSS (shared pages divided, so
 * the total is what the platform costs the machine).
 */
export async function platformFootprint(dir = runDir): Promise<Footprint> {
  const { nsPids } = await import('../src/host/links.ts');
  const state = readState(dir);
  const inNs = await nsPids(topology.app.nodes.map((n) => n.name).concat(state?.services.map((s) => s.ns) ?? []));
  const mine = ancestors();
  const naming = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && !mine.has(Number(p)))
    .map(Number)
    .filter((pid) => readOr(`/proc/${pid}/cmdline`, '').includes(dir.root));
  const pids = [...new Set([...inNs, ...naming, ...(state?.supervisor ? [state.supervisor.pid] : [])])].sort((a, b) => a - b);
  const processes = pids.flatMap((pid) => {
    const rollup = readOr(`/proc/${pid}/smaps_rollup`, '');
    if (!rollup) return [];
    const argv = readOr(`/proc/${pid}/cmdline`, '').split('\0');
    const script = argv.find((a) => /\.(ts|js)$/.test(a));
    return [{ pid, what: `${argv[0]?.split('/').pop()}${script ? ` ${script.split('/').pop()}` : ''}`, pssMb: kbField(rollup, 'Pss') }];
  });
  return { processes, pssMb: processes.reduce((a, p) => a + p.pssMb, 0) };
}

// `node bench/datapath.ts`: section 4 alone, against the platform that is up.
if (import.meta.main) console.log(JSON.stringify(await getThroughput(), null, 2));
