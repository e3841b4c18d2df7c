/**
 * `startObserver`: about once a second, one privileged read of every namespace's conntrack
 * table, interface counters and link states (reader.ts), the services' health by their own
 * protocols (health.ts), and the host's shape from the grader's discovery, turned into a
 * Snapshot. Nothing is read from ecomnet's plan or state: it watches any build of the lab, and
 * only the lab: a namespace of another name on the host is neither changed nor read.
 */
import { rmSync } from 'node:fs';
import { nodeNamed, topology } from '../topology/default.ts';
import { namespaces as seedNamespaces } from '../grader/contract.ts';
import { discover } from '../grader/discover.ts';
import { type Login, pgLogin, redisLogin } from '../grader/logins.ts';
import { handshakeLogins, mayReceive } from '../runtime/handshake.ts';
import type { HostModel } from '../grader/model.ts';
import { notProbed } from '../grader/service-facts.ts';
import { readinessOf } from '../net/readiness.ts';
import { writeNewFile } from '../host/files.ts';
import { detectBackend } from '../host/iptables.ts';
import { pausePoint } from '../host/pause.ts';
import { listNamespaces } from '../host/links.ts';
import { procStartTime, sameProcess, statFields } from '../host/proc.ts';
import { ensureRunDir, type RunDir, runDirAt } from '../host/run-dir.ts';
import { readJson } from '../util/read-json.ts';
import { ConntrackTable, parseNetDev } from './conntrack.ts';
import { declaredOf } from './declared.ts';
import { HealthBook, KeptProbes } from './health.ts';
import { History } from './history.ts';
import { overlayOf, readVxlans, remoteCandidates } from './overlay.ts';
import { Reader } from './reader.ts';
import { Accountant, Directory, type Table } from './traffic.ts';
import type { Endpoint, Health, InterfaceCounters, Observer, PacketRates, Snapshot } from './types.ts';

export interface ObserveOptions {
  intervalMs?: number;
  /** Where the record of what observing changed is kept (default: the platform's run directory). */
  runDir?: RunDir;
  /** Samples kept for history() (default 300: five minutes at 1 Hz). */
  historySize?: number;
  /** How often the host is discovered again (its shape changes rarely; namespaces coming and going are seen every sample). */
  rediscoverMs?: number;
}

/** What observing changed, per namespace: its accounting before (restored at the end). */
interface ObserveRecord {
  pid: number;
  /** The observer's start time (/proc/PID/stat): its pid alone may later be another's. */
  startTime?: number;
  chain: string;
  accounting: Record<string, string>;
}

/** The observer's own chain in each namespace, named from our tag like every chain of ours. */
export const observeChain = (tag = topology.tag): string => `${tag.toUpperCase()}-OBSERVE`;

const TICKS_PER_SECOND = 100;

/** The namespaces of the lab (the seed's and the grader's outside): the only ones observing changes or reads. */
const LAB = new Set([...topology.app.nodes, ...topology.outside.nodes].map((n) => n.name));

/** The same object in every sample: the history holds one copy. */
const DECLARED = declaredOf(topology);

/** The host as discovered, its namespaces the lab's alone. */
const labOf = (m: HostModel): HostModel => ({ ...m, namespaces: m.namespaces.filter((n) => LAB.has(n.name)) });

function endpointsOf(model: HostModel): Endpoint[] {
  const ipsOf = (links: HostModel['host']['links']) => links.flatMap((l) => l.addresses.map((a) => a.ip)).filter((ip) => !ip.startsWith('127.'));
  return [
    { id: 'host', kind: 'host', ips: ipsOf(model.host.links), up: true },
    ...model.namespaces.map((n): Endpoint => ({ id: n.name, kind: 'namespace', ips: ipsOf(n.links), up: true })),
    ...(model.containers ?? []).map((c): Endpoint => ({ id: `container:${c.name}`, kind: 'container', ips: [], up: c.running })),
  ];
}

/** Each namespace's veth and the host bridge its peer is a port of. */
function linksOf(model: HostModel): Snapshot['links'] {
  return model.namespaces.flatMap((n) =>
    n.links.flatMap((l) => {
      const peer = l.peer && l.peer.namespace === undefined ? model.host.links.find((h) => h.name === l.peer!.name) : undefined;
      return peer?.master ? [{ from: n.name, to: 'host', via: peer.master }] : [];
    }),
  );
}

/** CPU seconds of a process and its waited-for children (the reader's greps). */
function cpuSecondsOf(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND : 0;
}

export async function startObserver(o: ObserveOptions = {}): Promise<Observer> {
  const intervalMs = o.intervalMs ?? 1000;
  const historySize = o.historySize ?? 300;
  const dir = o.runDir ?? runDirAt();
  await ensureRunDir(dir);
  const chain = observeChain();
  const reader = await Reader.start(chain, (await detectBackend()).iptables);
  const record: ObserveRecord = { pid: process.pid, startTime: procStartTime(process.pid), chain, accounting: {} };
  const saveRecord = () => writeNewFile(dir.observe, JSON.stringify(record));

  // A crashed observer's changes first: its accounting back, its chain out.
  const stale = readJson<ObserveRecord>(dir.observe);
  if (stale && stale.pid !== process.pid && !sameProcess(stale) && stale.accounting && typeof stale.accounting === 'object') {
    for (const [ns, old] of Object.entries(stale.accounting)) await reader.restore(ns, String(old)).catch(() => {});
  }
  saveRecord();

  /** The namespaces held, by their holders' pids (as the reader last checked them). */
  const holders = new Map<string, number>();
  const notes = new Set<string>();
  // Accounting starts with a connection: one kept open from before it was on carries no counts.
  const switchedOn = new Set<string>();
  const watch = async (names: string[]) => {
    for (const ns of names) {
      if (holders.has(ns)) continue;
      // Again after a kill took its holder: the reader keeps what it found the first time.
      const old = await reader.accountingOf(ns);
      if (!old) notes.add(`${ns}: no conntrack accounting in this kernel's view of it`);
      else if (old === '0') switchedOn.add(ns);
      record.accounting[ns] = old;
      saveRecord();
      const holder = await reader.add(ns, old);
      if (holder) holders.set(ns, holder);
    }
    for (const ns of Object.keys(record.accounting)) {
      if (names.includes(ns)) continue;
      await reader.drop(ns);
      holders.delete(ns);
      delete record.accounting[ns];
      saveRecord();
    }
  };

  let model = labOf(await discover());
  // A two-host build's VXLANs change as rarely as the rest of the host's shape.
  let vxlans = await readVxlans();
  // The run's logins change only with the platform, which a rediscovery follows.
  let logins = handshakeLogins(dir, model);
  let discoveredAt = Date.now();
  await watch(model.namespaces.map((n) => n.name));

  const accountant = new Accountant();
  const conntrack = new Map<string, ConntrackTable>();
  const book = new HealthBook();
  // The run's secrets only to servers the platform started, asked when each would go out.
  const trust = (l: Login) => mayReceive(dir, l);
  const probes = new KeptProbes();
  let previousDev = new Map<string, { rx: number; tx: number; rxp: number; txp: number }>();
  const history = new History(historySize);
  const listeners = new Set<(s: Snapshot) => void>();
  let seq = 0;
  let last = { at: performance.now(), cpu: process.cpuUsage(), reader: cpuSecondsOf(reader.pid) };
  let inFlight: Promise<Snapshot> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probeAll = async (m: HostModel, at: string): Promise<Health[]> => {
    const pgAt = pgLogin(m, logins?.pgUrl);
    const redisAt = redisLogin(m, logins?.redisUrl);
    return Promise.all(
      seedNamespaces.map(async (n): Promise<Health> => {
        const { protocol } = n;
        // The data servers where they were found (their namespace, or published), logged in to as the run or the seed does.
        const login = protocol === 'redis' ? redisAt : protocol === 'postgres' ? pgAt : undefined;
        const readiness = readinessOf(nodeNamed(n.name, topology), login ? { at: login, login, trust } : {})!;
        // Never a packet that could leave the host: without the bridge and its route, 10.0.0.x goes out by the default route.
        const why = notProbed(m, login?.host ?? n.ip);
        if (why) return book.record(n.name, protocol, readiness.address, { healthy: false, detail: `not probed: ${why}` }, at);
        return book.record(n.name, protocol, readiness.address, await probes.probe(n.name, readiness), at);
      }),
    );
  };

  const takeSample = async (): Promise<Snapshot> => {
    const t0 = performance.now();
    const names = (await listNamespaces()).filter((n) => LAB.has(n));
    const changed = names.length !== holders.size || names.some((n) => !holders.has(n));
    if (changed || Date.now() - discoveredAt > (o.rediscoverMs ?? 30_000)) {
      [model, vxlans] = [labOf(await discover()), await readVxlans()];
      logins = handshakeLogins(dir, model);
      discoveredAt = Date.now();
      await watch(model.namespaces.map((n) => n.name).filter((n) => names.includes(n)));
    }
    const at = new Date().toISOString();
    const [read, health] = await Promise.all([reader.sample(), probeAll(model, at)]);
    const { files } = read;
    // A holder killed with its namespace's processes: held again for the next sample.
    for (const ns of read.lost) holders.delete(ns);
    for (const [ns, pid] of read.held) holders.set(ns, pid);
    if (read.lost.length) await watch(model.namespaces.map((n) => n.name).filter((n) => names.includes(n)));
    const now = performance.now();
    const seconds = Math.max((now - last.at) / 1000, 0.001);

    // The tables of namespaces no longer read are let go.
    for (const ns of conntrack.keys()) if (ns !== 'host' && !read.held.has(ns)) conntrack.delete(ns);
    const parsed = (ns: string, text: string): Table => {
      let table = conntrack.get(ns);
      if (!table) conntrack.set(ns, (table = new ConntrackTable()));
      return { ns, entries: table.parse(text) };
    };
    const tables: Table[] = [parsed('host', files.get('/proc/net/nf_conntrack') ?? '')];
    const devs: { ns: string; text: string }[] = [{ ns: 'host', text: files.get('/proc/net/dev') ?? '' }];
    const upOf = new Map<string, boolean>();
    for (const [ns, h] of read.held) {
      tables.push(parsed(ns, files.get(`/proc/${h}/net/nf_conntrack`) ?? ''));
      devs.push({ ns, text: files.get(`/proc/${h}/net/dev`) ?? '' });
      const states = [...files].filter(([f]) => f.startsWith(`/proc/${h}/root/sys/class/net/`) && !f.endsWith('/lo/operstate')).map(([, v]) => v.trim());
      upOf.set(ns, states.length > 0 && states.every((s) => s === 'up' || s === 'unknown'));
    }
    const wasDev = previousDev;
    previousDev = new Map();
    // The root namespace's devices with their packet rates too: the overlay's and its underlay's.
    const hostRates = new Map<string, PacketRates>();
    const interfaces: InterfaceCounters[] = devs.flatMap(({ ns, text }) =>
      parseNetDev(text)
        .filter((d) => d.name !== 'lo')
        .map((d) => {
          const key = `${ns}|${d.name}`;
          const was = wasDev.get(key);
          previousDev.set(key, { rx: d.rxBytes, tx: d.txBytes, rxp: d.rxPackets, txp: d.txPackets });
          const grew = was && d.rxBytes >= was.rx && d.txBytes >= was.tx && d.rxPackets >= was.rxp && d.txPackets >= was.txp;
          const rates = grew
            ? { rxBytes: (d.rxBytes - was.rx) / seconds, txBytes: (d.txBytes - was.tx) / seconds, rxPackets: (d.rxPackets - was.rxp) / seconds, txPackets: (d.txPackets - was.txp) / seconds }
            : { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
          if (ns === 'host') hostRates.set(d.name, rates);
          return { namespace: ns, ...d, rate: { rxBytes: rates.rxBytes, txBytes: rates.txBytes } };
        }),
    );

    const links = linksOf(model);
    const overlay = overlayOf(vxlans, new Set(links.map((l) => l.via)), hostRates);
    const local = endpointsOf(model).map((e) => (e.kind === 'namespace' ? { ...e, up: upOf.get(e.id) ?? false } : e));
    // The lab's namespaces on the other host are named by their seed addresses, and shown once traffic here reaches them.
    const remote = remoteCandidates(overlay, local);
    const published = (model.containers ?? []).filter((c) => c.running).flatMap((c) => c.ports.map((p) => ({ hostPort: p.hostPort, container: c.name })));
    const traffic = accountant.account(tables, new Directory([...local, ...remote], published), seconds);
    const reached = new Set(traffic.pairs.flatMap((p) => [p.from, p.to]));
    const endpoints = [...local, ...remote.filter((e) => reached.has(e.id))];
    const acrossOf = new Map(remote.map((e) => [e.id, e.across]));

    const cpu = process.cpuUsage(last.cpu);
    const readerCpu = cpuSecondsOf(reader.pid);
    // The baseline sample would measure the observer's start-up (loading, discovery, the reader's setup), not its running cost.
    const cpuPercent = seq === 0 ? 0 : (((cpu.user + cpu.system) / 1e6 + Math.max(readerCpu - last.reader, 0)) / seconds) * 100;
    last = { at: now, cpu: process.cpuUsage(), reader: readerCpu };

    const s: Snapshot = {
      at,
      seq: ++seq,
      intervalMs,
      endpoints,
      links,
      // A service on the other host is asked from here across the overlay: unanswered, it is not reached, not claimed down.
      health: health.map((h) => (acrossOf.has(h.name) ? { ...h, across: acrossOf.get(h.name) } : h)),
      pairs: traffic.pairs,
      declared: DECLARED,
      protocols: traffic.protocols,
      states: traffic.states,
      interfaces,
      ...(overlay.length ? { overlay } : {}),
      observer: { cpuPercent: Math.round(cpuPercent * 100) / 100, sampleMs: Math.round((performance.now() - t0) * 10) / 10 },
      notes: [
        ...notes,
        ...(switchedOn.size ? [`conntrack accounting switched on for observing in ${[...switchedOn].join(', ')}: connections already open there carry no counts`] : []),
        ...(names.length ? [] : ["none of the lab's network namespaces on this host: nothing to observe yet"]),
      ],
    };
    history.push(s);
    for (const l of listeners) l(s);
    return s;
  };

  const sample = (): Promise<Snapshot> => {
    if (stopped) return Promise.reject(new Error('the observer is stopped'));
    inFlight ??= takeSample().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const tick = () => {
    if (stopped) return;
    const started = performance.now();
    sample()
      .catch((e: Error) => notes.add(`sample failed: ${e.message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, Math.max(intervalMs - (performance.now() - started), 50));
      });
  };

  // The first sample is the baseline: what conntrack held before counts from here.
  await sample();
  timer = setTimeout(tick, intervalMs);

  return {
    latest: () => history.latest(),
    history: () => history.all(),
    subscribe(onSample) {
      listeners.add(onSample);
      return () => listeners.delete(onSample);
    },
    sample,
    async stop() {
      if (stopped) return;
      stopped = true;
      pausePoint('observe-undo');
      clearTimeout(timer);
      await inFlight?.catch(() => {});
      probes.close();
      await reader.stop();
      rmSync(dir.observe, { force: true });
      listeners.clear();
    },
  };
}
