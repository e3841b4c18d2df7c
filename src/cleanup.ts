/**
 * Removing a platform, in one place (as Mininet keeps `mn -c`): `down`, the test run's
 * teardown, the bench and the suites all come here. Works from the state file and the tags, so
 * it also finishes a crashed or half-done run, and is idempotent.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { topology as defaultTopology } from './topology/default.ts';
import { priv } from './host/exec.ts';
import { removeProbe } from './grader/probe.ts';
import { detectBackend, ownedLines, removeOwned, save, type Backend } from './host/iptables.ts';
import { ipBatch, linkedAcrossNamespaces, listLinks, listNamespaces, nsPids, waitGone } from './host/links.ts';
import { timed, type Progress } from './host/network.ts';
import { readSysctl } from './host/facts.ts';
import { setSysctls } from './host/sysctl.ts';
import { dataDirAt, type RunDir } from './host/run-dir.ts';
import { clearState, readState, StateError, validateState, writeState, type State } from './host/state.ts';
import { removeAccounts } from './runtime/account.ts';
import { engineEndpoint, engineReachable, labelFilter, removeContainers, removeVolumes } from './runtime/engine.ts';
import { clearFaults } from './runtime/faults.ts';
import { stopInOrder } from './runtime/start-order.ts';
import { askSupervisorToStop, stopSupervisor } from './runtime/supervisor.ts';
import type { Topology } from './topology/types.ts';
import { peerName } from './topology/validate.ts';
import { until } from './util/wait.ts';

export interface RemoveOptions {
  /** Its kept data too, as `docker compose down --volumes`: the data directory, the containers' volumes. */
  volumes?: boolean;
}

/**
 * Remove everything of the platform recorded in `dir` (or tagged as topology `t`'s) from this
 * host; its kept data stays unless `volumes` is asked for. The state is read once, and acted on
 * only if `t` could have written it; each step records in it what is gone, so a crash part way
 * leaves an account for the next `down`. The caller has made sure the run directory exists.
 */
export async function cleanup(dir: RunDir, progress: Progress, t: Topology = defaultTopology, opts: RemoveOptions = {}): Promise<void> {
  const backend = await detectBackend();
  let state: State | undefined;
  try {
    state = validateState(readState(dir), t);
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    return refuseState(dir, e, backend, progress, t);
  }
  const supervisor = state?.supervisor;
  if (supervisor) {
    // First, so it restarts nothing that is being stopped; then the services as it last recorded
    // them; it leaves once they have exited, their last lines in their logs (it keeps the logs).
    await askSupervisorToStop(supervisor);
    state = validateState(readState(dir), t) ?? state;
  }
  await clearFaults(dir, t, progress);
  if (state) await stopInOrder(dir, state, progress);
  await stopSupervisor(supervisor);
  await teardownNetwork(dir, state, backend, progress, t.tag);
  await removeDataContainers(state, t.tag, progress);
  await removeRunFiles(dir);
  if (state?.accounts?.length) await timed(`remove accounts ${state.accounts.join(', ')}`, progress, () => removeAccounts(state.accounts!));
  if (opts.volumes) await timed('remove the kept data', progress, () => removeData(state, t));
  clearState(dir);
  // And a probe a killed verify left (the grader's own record, apart from any platform's).
  await removeProbe();
}

/**
 * The data kept for topology `t`: the directory its state records and the one this invocation
 * names (ECOMNET_DATA_DIR or the default), and in each only what we put there; the volumes
 * labelled with its tag, where an engine answers.
 */
async function removeData(state: State | undefined, t: Topology): Promise<void> {
  if (await engineReachable()) await removeVolumes(t.tag);
  const dirs = [dataDirAt(t.tag), ...(state?.dataDir ? [dataDirAt(t.tag, dirname(state.dataDir))] : [])].filter((d, i, all) => all.findIndex((o) => o.root === d.root) === i);
  for (const d of dirs) {
    if (!existsSync(d.root)) continue;
    await priv(['rm', '-rf', d.postgres, d.postgresReady, d.postgresPassword]);
    // Empty now unless someone else put something there: that stays, and so does the directory.
    await priv(['rmdir', d.root], { allowFail: true });
  }
}

/**
 * A state file we did not write names nothing we act on: only what our tag marks goes (our
 * iptables chains and tagged rules, containers labelled with it), then the user is told.
 */
async function refuseState(dir: RunDir, e: StateError, backend: Backend, progress: Progress, t: Topology): Promise<never> {
  await timed('remove our iptables jumps, chains and tagged rules', progress, () => removeOwned(backend, t.tag));
  const containers = (await engineReachable()) ? `, and containers labelled ${labelFilter(t.tag)} (${await removeContainers([], t.tag)} removed)` : '';
  throw new Error(
    `${dir.state}: ${e.message}\nNothing it names was touched (namespaces, links, sysctls, processes, container ids); removed only what the tag "${t.tag}" marks: our iptables chains and rules${containers}. ` +
      `If it was brought up with --topology FILE, run \`ecomnet down --topology FILE\`; otherwise check the host and remove ${dir.state} yourself.`,
  );
}

/** Stop whatever still runs inside our namespaces: a namespace with processes outlives `ip netns del`. */
async function killNamespaceProcesses(namespaces: string[]): Promise<void> {
  const pids = await nsPids(namespaces);
  if (!pids.length) return;
  await priv(['kill', '-TERM', ...pids.map(String)], { allowFail: true });
  const gone = await until(async () => !(await nsPids(namespaces)).length, { timeoutMs: 5000 });
  if (!gone) await priv(['kill', '-KILL', ...pids.map(String)], { allowFail: true });
}

/** What a run (or a probe) put on the host by name. */
type Links = Pick<State, 'namespaces' | 'bridges' | 'veths'>;

/** Stop what runs in our namespaces, delete them and our bridges, and wait until the kernel has. */
async function removeLinks(state: Links, progress: Progress): Promise<void> {
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const namespaces = state.namespaces.filter((n) => ns.includes(n));
  const bridges = state.bridges.filter((b) => links.includes(b));
  // Only a veth whose peer sits in another namespace vanishes with it: a foreign link that
  // merely has one of our names (it is why an `up` failed) stays, and is not waited for.
  const veths = await linkedAcrossNamespaces((state.veths ?? []).filter((v) => links.includes(v)));
  await timed('stop processes in namespaces', progress, () => killNamespaceProcesses(namespaces));
  await timed('delete namespaces and bridges', progress, async () => {
    await ipBatch([...namespaces.map((n) => `netns del ${n}`), ...bridges.map((b) => `link del ${b}`)], { force: true });
    await waitGone(state.namespaces, [...state.bridges, ...veths]);
  });
}

/**
 * Remove exactly what the state (and, for rules, the tags) says is ours. Idempotent: anything
 * already gone is skipped, so it also finishes a half-done teardown or a crashed `up`.
 */
async function teardownNetwork(dir: RunDir, state: State | undefined, backend: Backend, progress: Progress, tag: string): Promise<void> {
  // Rules and links do not depend on each other: both go at once, so `down` costs the longer of the two.
  const rules = timed('remove our iptables jumps, chains and tagged rules', progress, () => removeOwned(backend, tag));
  const links = state ? removeLinks(state, progress) : Promise.resolve();
  const [r, l] = await Promise.allSettled([rules, links]);
  for (const outcome of [r, l]) if (outcome.status === 'rejected') throw outcome.reason;
  if (!state) return;
  await timed('restore sysctls', progress, () => setSysctls(state.sysctls.filter((s) => s.before !== null && readSysctl(s.key) !== s.before).map((s) => ({ key: s.key, value: s.before! }))));
  writeState(dir, Object.assign(state, { phase: 'down', namespaces: [], bridges: [], veths: [], sysctls: [] }));
}

/**
 * A containers-mode run's containers, by recorded id and by label (one created just before a
 * crash has no id on record). Without an engine they cannot go: the state stays for a later `down`.
 */
async function removeDataContainers(state: State | undefined, tag: string, progress: Progress): Promise<void> {
  if (state?.options.data !== 'containers') return;
  if (!(await engineReachable())) {
    if (!state.containers.length) return;
    throw new Error(`containers ${state.containers.join(', ')} are left: no Docker engine answers at ${engineEndpoint().shown}; start it and run \`ecomnet down\` again`);
  }
  const t0 = performance.now();
  const n = await removeContainers(state.containers, tag);
  progress(`remove ${n} containers (${labelFilter(tag)})`, performance.now() - t0);
}

/** What a run wrote (data, configs, secrets); logs stay for a post-mortem until the next `up`. */
async function removeRunFiles(dir: RunDir): Promise<void> {
  const paths = dir.runFiles.filter((p) => existsSync(p));
  if (paths.length) await priv(['rm', '-rf', ...paths]);
}

/** Namespaces, links, our iptables chains and tagged rules of topology `t` still on the host: [] once it is gone. */
export async function leftovers(t: Topology): Promise<string[]> {
  const [ns, links, saved] = await Promise.all([listNamespaces(), listLinks(), detectBackend().then((b) => save(b))]);
  const nodes = [...t.app.nodes, ...t.outside.nodes];
  return [
    ...nodes.map((n) => n.name).filter((n) => ns.includes(n)),
    ...[t.app.bridge.name, t.outside.bridge.name, ...nodes.map((n) => peerName(n.veth))].filter((l) => links.includes(l)),
    ...ownedLines(saved, t.tag),
  ];
}
