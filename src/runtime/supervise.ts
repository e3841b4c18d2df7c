/**
 * The supervisor process: `node src/runtime/supervise.ts RUN_DIR`, started detached by `up`
 * (src/runtime/supervisor.ts) and stopped by `down`. Every 100 ms it looks at the recorded
 * services; a dead one is restarted through the same code that started it (components.ts),
 * unless the fault record holds it down. It is also the platform's one log keeper
 * (log-keeper.ts): every server's output, and the rotation of nginx's access log. What only a
 * restart needs is loaded at the first restart, so the idle supervisor stays small.
 */
import '../../bin/compile-cache.js';
import { nsPids } from '../host/links.ts';
import { priv } from '../host/exec.ts';
import { procStartTime, sameProcess } from '../host/proc.ts';
import { ensureRunDir, runDirAt } from '../host/run-dir.ts';
import { readState, validateState, writeState } from '../host/state.ts';
import { readTopologyFile } from '../topology/parse.ts';
import { until } from '../util/wait.ts';
import { ACCOUNT_ROLES } from '../host/accounts.ts';
import type { ServiceContext } from './components.ts';
import { heldServices, readFaults } from './faults.ts';
import { LogKeeper, rotateByRename } from './log-keeper.ts';
import { readSecrets } from './secrets.ts';
import { keepLogsWith, stopPid } from './spawn.ts';
import { Supervisor, supervisorLog, writeSupervision } from './supervisor.ts';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: node src/runtime/supervise.ts RUN_DIR\n');
  process.exit(2);
}
const dir = runDirAt(root);
// down's SIGTERM: leave at once; a service half started now dies with its namespace.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

// Root acts on what it reads here: only from a run directory nobody else can change.
await ensureRunDir(dir);
const log = supervisorLog(dir.log('supervisor'));
const t = readTopologyFile(dir.topology);
const state = validateState(readState(dir), t);
const secrets = readSecrets(dir);
if (state?.phase !== 'up' || !secrets) {
  log({ event: 'nothing to supervise', phase: state?.phase });
  process.exit(0);
}
/** Set by `down`'s SIGTERM: nothing is started any more. */
let stopping = false;
// Every server's pipe read before `up` (which holds them until now) learns this process runs.
const keeper = new LogKeeper();
keeper.keepAll(dir.logs);
keepLogsWith(keeper);
// Its own record in the state, written before anything else: `down` stops it before the services.
state.supervisor = { pid: process.pid, startTime: procStartTime(process.pid)! };
writeState(dir, state);
let context: Promise<ServiceContext> | undefined;
/** What a restart needs, made at the first one. */
const restartContext = async (): Promise<ServiceContext> => {
  const [{ existingAccounts, keptDataOf }, { codeOf }] = await Promise.all([import('./start-order.ts'), import('./stage.ts')]);
  return {
    t,
    dir,
    state,
    secrets,
    store: keptDataOf(t, state),
    // The services' accounts exist only when a service does (a platform of the data layer alone has none).
    accounts: state.services.some((r) => (ACCOUNT_ROLES as readonly string[]).includes(r.name)) ? existingAccounts(t) : undefined,
    code: codeOf(dir),
    data: state.options.data,
    progress: (step: string, ms: number) => log({ event: 'step', step, ms: Math.round(ms) }),
  };
};
const rec = (name: string) => state.services.find((s) => s.name === name);
// The holds as last read: a record that fails its check is logged once and the holds stay as they were, rather than restarting a held service.
let holds = new Set<string>();
let unreadable: string | undefined;
const held = (): Set<string> => {
  try {
    holds = new Set(heldServices(readFaults(dir, t)));
    unreadable = undefined;
  } catch (e) {
    if ((e as Error).message !== unreadable) log({ event: 'fault record unreadable', error: (e as Error).message });
    unreadable = (e as Error).message;
  }
  return holds;
};

const supervisor = new Supervisor(
  {
    records: () => state.services,
    held,
    alive: sameProcess,
    clearLeftovers: async (r) => {
      const pids = await nsPids([r.ns]);
      if (pids.length) await priv(['kill', '-KILL', ...pids.map(String)], { allowFail: true });
      await until(async () => !(await nsPids([r.ns])).length, { timeoutMs: 5000, intervalMs: 20 });
    },
    start: async (name) => {
      if (stopping) throw new Error('the platform is being stopped');
      const [{ bringUpComponent }, ctx] = await Promise.all([import('./components.ts'), (context ??= restartContext())]);
      await bringUpComponent(ctx, name);
    },
    stopUnready: async (name) => {
      const r = rec(name);
      if (r) await stopPid(r, 'KILL', 1000);
    },
    save: (s) => writeSupervision(dir, s),
    log,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  },
  process.pid,
);
// `ecomnet restart` of a service given up.
process.on('SIGUSR1', () => log({ event: 'retry given up', services: supervisor.retryGivenUp() }));
log({ event: 'supervising', services: Object.keys(supervisor.status.services), policy: supervisor.status.policy });
const checking = setInterval(() => supervisor.check(), 100);

// From here `down`'s SIGTERM stops the supervising at once (nothing is restarted any more) but the
// keeping only once the services `down` stops next have exited, so their last lines reach their
// logs; a second signal, or services that outlive the wait, end it at once.
const stop = async () => {
  if (stopping) process.exit(0);
  stopping = true;
  clearInterval(checking);
  log({ event: 'stopping: the logs are kept until the services have exited' });
  const running = () => (readState(dir)?.services ?? []).some(sameProcess);
  await until(() => !running(), { timeoutMs: 15_000, intervalMs: 50 });
  await keeper.drained();
  process.exit(0);
};
process.removeAllListeners('SIGTERM').removeAllListeners('SIGINT');
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

// nginx writes its access log itself: renamed when near full, and nginx reloaded (HUP: its master,
// root, opens the new file; its workers could not reopen it by path in the 0700 logs directory).
let rotating = false;
const accessLog = dir.log('nginx-access');
const reloadNginx = async () => {
  const nginx = rec('nginx');
  if (nginx && sameProcess(nginx)) await priv(['kill', '-HUP', String(nginx.pid)], { allowFail: true });
};
setInterval(() => {
  if (rotating) return;
  rotating = true;
  rotateByRename(accessLog, reloadNginx)
    .then((rotated) => rotated && log({ event: 'rotated', log: accessLog }))
    .catch((e: Error) => log({ event: 'rotation failed', log: accessLog, error: e.message }))
    .finally(() => (rotating = false));
}, 100);
