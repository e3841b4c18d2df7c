// The cache first (run directly, main.ts itself was compiled without it); the rest loads per command.
import '../../bin/compile-cache.js';
import { parseArgs } from 'node:util';
import type { DataMode } from '../platform.ts';
import type { Component, Policy, Topology } from '../topology/types.ts';

const { hostPort, topology: defaultTopology } = await import('../topology/default.ts');
const { ensureRunDir, runDirAt } = await import('../host/run-dir.ts');

const usage = `usage: ecomnet <command> [options]
  up [--detach] [--network-only] [--data native|containers] [--policy deny|open] [--dry-run] [--guard] [--topology FILE.json]
                     bring the platform up (foreground until Ctrl-C, like docker compose up)
                     --policy: deny (default) lets namespaces open only the topology's flows; open is the seed's flat network
  up --topology two-hosts --virtual-hosts
                     course day 6: each host of a multi-host topology in a virtual host of its own on this
                     machine, joined by a VXLAN over one underlay (foreground until Ctrl-C)
  up|down --topology FILE.json --host NAME [--secrets FILE]
                     one host's half of a multi-host topology on this machine (two real machines); the
                     second host's up takes the first's run secrets file (one set of passwords for both)
  down [--volumes] [--topology FILE.json]   remove everything of ours from this host (idempotent);
                     the data (orders) is kept for the next up unless --volumes
                     --topology: another platform, as JSON data in the shape of src/topology/default.ts
                     (every field checked; never run as code)
  status [--json]    namespaces, services and their health
  logs [SERVICE] [-f] the services' logs
  restart SERVICE    restart gateway, product or order with the same configuration (one the
                     supervisor gave up is tried again)
  fault kill SERVICE [--hold] | link-down NS | loss NS [--percent 5] | delay NS [--ms 200]
                     inject a fault and watch the platform cope (kill -9 a service, which the
                     supervisor restarts, or with --hold keeps down until fault clear; a
                     namespace's link down, lossy or slow)
  fault clear | fault list
                     remove every fault injected (down does too; clear returns once a held
                     service serves again) / show them
  observe [--once|--watch] [--json] [--port N]
                     watch the platform live (any build of the lab): a page on 127.0.0.1 with health,
                     traffic per service pair, protocols, connection states and the topology; --once
                     or --watch print the same tables in the terminal, --json for scripts
  doctor             check this host and print exactly what to install
  diagram [--live] [--svg FILE]
                     the network diagram (Mermaid on stdout, or SVG); --live: drawn from the host as it is,
                     red where it differs from the seed (exit 1 then)
  verify [--only 1.1,1.2|phase1|ID,...] [--phase 1|2] [--build SCRIPT [--teardown SCRIPT] [--docker-forward]]
         [--pg-url URL] [--redis-url URL] [--reports DIR] [--json]
                     grade a build of the lab against the seed's 27 deliverables: the one on this
                     host (changing nothing of it), or --build: SCRIPT run in a virtual host of its
                     own, graded there, this host untouched. Exit 0 all graded pass, 1 a
                     deliverable failed, 2 inconclusive (could not judge), 3 usage error
  verify --two-hosts --build SCRIPT | --build-a A.sh --build-b B.sh | --hosts PID_A,PID_B
         [--pg-url URL] [--redis-url URL] [--reports DIR] [--json]
                     grade course day 6 (the lab across two hosts joined by a VXLAN): each host's
                     script (run as SCRIPT a|b THIS_IP OTHER_IP) in a virtual host of its own on one
                     underlay, or two hosts already up (their PID 1s); with the seed's deliverables
                     judged on both hosts as one lab (6-seed); the same exit codes
  grade DIR... [--jobs N] [--shard I/N] [--only LIST] [--script build.sh] [--reports DIR] [--docker-forward]
  grade --merge CLASS.json... [--reports DIR]
                     grade a class: each DIR's build script in a virtual host of its own, N at a
                     time; each build's reports and a class report (HTML, CSV, JSON); --shard
                     grades one slice of the class, --merge joins slices into one report`;

const progress = (step: string, ms: number) => console.log(`  ✓ ${step} (${ms.toFixed(0)} ms)`);

/** `--topology`: the default, the built-in `two-hosts` (course day 6), or a JSON file; with `--host`, that host's half of a multi-host one. */
async function readTopology(file: string | undefined): Promise<Topology> {
  if (!file) return defaultTopology;
  if (file === 'two-hosts') return (await import('../topology/two-hosts.ts')).twoHosts;
  return (await import('../topology/parse.ts')).readTopologyFile(file);
}

async function loadTopology(file: string | undefined, host?: string): Promise<Topology> {
  const t = await readTopology(file);
  if (host !== undefined) return (await import('../topology/hosts.ts')).hostView(t, host);
  if (t.hosts)
    throw new UsageError(
      `topology ${t.tag} spans ${t.hosts.list.length} hosts: bring one up here with --host ${t.hosts.list.map((h) => h.name).join('|')}, or all of them in virtual hosts with --virtual-hosts`,
    );
  return t;
}

async function cmdUp(v: Record<string, string | boolean | undefined>): Promise<number> {
  if (v['virtual-hosts']) return cmdUpVirtualHosts(v);
  const t = await loadTopology(v.topology as string | undefined, v.host as string | undefined);
  const networkOnly = Boolean(v['network-only']);
  const { Platform } = await import('../platform.ts');
  const platform = Platform.from(t)
    .withData((v.data ?? 'native') as DataMode)
    .withNetworkOnly(networkOnly)
    .withGuard(Boolean(v.guard))
    .withPolicy((v.policy ?? 'deny') as Policy)
    .withProgress(progress)
    .withAnnouncements((l) => console.log(l))
    .heldAs(`ecomnet up${v.detach ? ' --detach' : ''}`);
  if (typeof v.secrets === 'string') {
    const { parseSecrets } = await import('../runtime/secrets.ts');
    const { readFileSync } = await import('node:fs');
    platform.withSecrets(parseSecrets(readFileSync(v.secrets, 'utf8'), v.secrets));
  }
  if (v['dry-run']) {
    const { planScript } = await import('../plan/script.ts');
    process.stdout.write(planScript(await platform.plan()));
    return 0;
  }
  // A user who cannot become root is told what to run instead before anything is printed or changed.
  await (await import('../host/exec.ts')).requirePrivilege();
  // From the first step: a signal while coming up rolls back what was applied, and none ends this process half way.
  const stop = v.detach ? undefined : (await import('./stop-request.ts')).stopRequest((l) => console.log(l));
  if (stop) platform.withAbort(stop.signal);
  const t0 = performance.now();
  console.log(`ecomnet: bringing up ${t === defaultTopology ? 'the platform' : t.tag}${networkOnly ? ' (network only)' : ''}`);
  let started: Awaited<ReturnType<typeof platform.start>>;
  try {
    started = await platform.start();
  } catch (e) {
    if (!stop?.signal.aborted) throw e;
    // A step cut short by the stop (its command killed with the process group) is not the news.
    console.log(`\necomnet: stopped while coming up (${stop.signal.reason}): what was applied is rolled back, nothing of ours is left on this host`);
    return 0;
  }
  console.log(started.changed ? `up in ${((performance.now() - t0) / 1000).toFixed(1)} s` : 'already up: nothing to change');
  if (t === defaultTopology) {
    const { statusTable } = await import('./status.ts');
    console.log(`\n${statusTable((await started.status()).nodes)}\n`);
    if (!networkOnly) console.log(`open http://localhost:${hostPort(t)}  (products: http://localhost:${hostPort(t)}/api/products)\n`);
  }
  if (v.detach) {
    started.detach();
    console.log('detached: `ecomnet status`, `ecomnet logs`, `ecomnet down`');
    return 0;
  }
  // Foreground, like `docker compose up`: logs until Ctrl-C, SIGTERM or SIGHUP, then everything is removed.
  const requested = stop!.requested.then(() => {});
  console.log('Ctrl-C stops the platform and removes it from this host.\n');
  // Nothing else may be pending (network only): this handle keeps the process waiting for the signal.
  const waiting = setInterval(() => {}, 1 << 30);
  if (!networkOnly && !stop!.signal.aborted) await (await import('./logs.ts')).printLogs(platform.runDir, undefined, true, requested);
  else await requested;
  clearInterval(waiting);
  console.log(`\necomnet: stopping (${stop!.signal.reason})`);
  (await import('../host/pause.ts')).pausePoint('stopping');
  await started.stop(progress);
  console.log('down: nothing of ours is left on this host but its data, kept for the next up');
  return 0;
}

/** Every host of a multi-host topology in a virtual host of its own, in the foreground until Ctrl-C, SIGTERM or SIGHUP. */
async function cmdUpVirtualHosts(v: Record<string, string | boolean | undefined>): Promise<number> {
  const arg = (v.topology as string | undefined) ?? 'two-hosts';
  const t = await readTopology(arg);
  await (await import('../host/exec.ts')).requirePrivilege();
  const stop = (await import('./stop-request.ts')).stopRequest((l) => console.log(l));
  const { upInVirtualHosts, shopArgv } = await import('./virtual-hosts.ts');
  const t0 = performance.now();
  console.log(`ecomnet: bringing up ${t.tag} across ${t.hosts?.list.map((h) => h.name).join(' and ')}, each in a virtual host of its own`);
  const up = await upInVirtualHosts(t, arg, { data: (v.data as string) ?? 'native', policy: (v.policy as string) ?? 'deny', say: (l) => console.log(l) });
  try {
    console.log(`up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const [first] = up.hosts;
    const shop = await first!.vh.exec(shopArgv(t), { allowFail: true });
    console.log(`\n${first!.name}'s external client: ${shopArgv(t).slice(4).join(' ')}\n${shop.stdout.trim() || shop.stderr.trim()}\n`);
    for (const h of up.hosts) console.log(`${h.name}: sudo nsenter -t ${h.vh.pid} -a   (a shell on it: ecomnet status, ip -d link show vxlan100, ...)`);
    console.log('\nCtrl-C stops both hosts; nothing of them is on this machine.');
    const waiting = setInterval(() => {}, 1 << 30);
    await stop.requested;
    clearInterval(waiting);
    console.log(`\necomnet: stopping (${stop.signal.reason})`);
  } finally {
    await up.destroy();
  }
  console.log('down: the virtual hosts and all that ran in them are gone');
  return 0;
}

async function cmdDown(v: Record<string, string | boolean | undefined>): Promise<number> {
  const { Platform } = await import('../platform.ts');
  const platform = Platform.from(await loadTopology(v.topology as string | undefined, v.host as string | undefined))
    .withProgress(progress)
    .heldAs('ecomnet down');
  const [{ readHolder }, { alive }, { until }] = await Promise.all([import('../host/lock.ts'), import('../host/proc.ts'), import('../util/wait.ts')]);
  // The lock names a pid to signal: read it only from a run directory no one else can change.
  await ensureRunDir(platform.runDir);
  // A foreground `up` owns the platform: ask it to stop, it tears down itself. A test run is
  // left alone (the lock names it).
  const holder = readHolder(platform.runDir);
  if (holder?.command.startsWith('ecomnet up')) {
    console.log(`asking pid ${holder.pid} (\`${holder.command}\`) to stop`);
    process.kill(holder.pid, 'SIGTERM');
    await until(() => !alive(holder.pid), { timeoutMs: 30_000 });
  }
  await platform.stop({ volumes: Boolean(v.volumes) });
  console.log(v.volumes ? 'down: nothing of ours is left on this host, data included' : 'down: nothing of ours is left on this host but its data, kept for the next up (--volumes removes it)');
  return 0;
}

async function cmdFault([kind, target]: string[], v: Record<string, string | boolean | undefined>): Promise<number> {
  const dir = runDirAt();
  // Root acts on the fault record and signals the state's pids: only from a run directory no one else can change.
  await ensureRunDir(dir);
  const faults = await import('../runtime/faults.ts');
  if (kind === 'clear') {
    const cleared = await faults.clearFaults(dir, defaultTopology);
    console.log(cleared.length ? `cleared: ${cleared.map(faults.describeFault).join(', ')}` : 'no faults to clear');
    const served = await faults.releaseHolds(dir, defaultTopology, cleared.filter(faults.isHold));
    for (const [service, ms] of Object.entries(served)) console.log(`${service} serves again (${ms} ms after the clear)`);
    return 0;
  }
  if (kind === 'list') {
    const now = faults.readFaults(dir, defaultTopology);
    console.log(now.length ? now.map(faults.describeFault).join('\n') : 'no faults injected');
    return 0;
  }
  const f = faults.parseFault(kind ?? '', target, { percent: v.percent as string | undefined, ms: v.ms as string | undefined, hold: Boolean(v.hold) }, defaultTopology);
  if (f.kind === 'kill') {
    const pids = await faults.killService(dir, defaultTopology, f.service, { hold: f.hold });
    console.log(
      f.hold
        ? `killed ${f.service} (kill -9 ${pids.join(' ')}) and holding it down; \`ecomnet fault clear\` brings it back`
        : `killed ${f.service} (kill -9 ${pids.join(' ')}); \`ecomnet status\` shows it restarted`,
    );
    return 0;
  }
  await faults.injectFault(dir, defaultTopology, f);
  console.log(`injected ${faults.describeFault(f)}; \`ecomnet fault clear\` removes it`);
  return 0;
}

/** A command line the CLI cannot read: the grader's commands say so with their documented usage code. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values: v, positionals } = parseOptions(rest);
  return run(command, v, positionals);
}

function parseOptions(rest: string[]) {
  try {
    return parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean' },
        'network-only': { type: 'boolean' },
        detach: { type: 'boolean', short: 'd' },
        guard: { type: 'boolean' },
        policy: { type: 'string' },
        data: { type: 'string' },
        topology: { type: 'string' },
        host: { type: 'string' },
        secrets: { type: 'string' },
        'virtual-hosts': { type: 'boolean' },
        json: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        svg: { type: 'string' },
        live: { type: 'boolean' },
        'pg-url': { type: 'string' },
        'redis-url': { type: 'string' },
        reports: { type: 'string' },
        only: { type: 'string' },
        phase: { type: 'string' },
        build: { type: 'string' },
        teardown: { type: 'string' },
        'docker-forward': { type: 'boolean' },
        'two-hosts': { type: 'boolean' },
        'build-a': { type: 'string' },
        'build-b': { type: 'string' },
        hosts: { type: 'string' },
        jobs: { type: 'string', short: 'j' },
        shard: { type: 'string' },
        merge: { type: 'boolean' },
        script: { type: 'string' },
        percent: { type: 'string' },
        ms: { type: 'string' },
        hold: { type: 'boolean' },
        volumes: { type: 'boolean', short: 'v' },
        once: { type: 'boolean' },
        watch: { type: 'boolean' },
        port: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function run(command: string | undefined, v: ReturnType<typeof parseOptions>['values'], positionals: string[]): Promise<number> {
  switch (command) {
    case 'up':
      return cmdUp(v);
    case 'down':
      return cmdDown(v);
    case 'status': {
      const [{ status }, { statusTable }] = await Promise.all([import('../runtime/status.ts'), import('./status.ts')]);
      const s = await status(defaultTopology, runDirAt());
      if (v.json) console.log(JSON.stringify(s, null, 2));
      else console.log(`${s.up ? `up since ${s.startedAt}` : 'not up'}\n\n${statusTable(s.nodes)}`);
      return s.up ? 0 : 3;
    }
    case 'logs':
      return (await import('./logs.ts')).printLogs(runDirAt(), positionals[0], Boolean(v.follow), new Promise((r) => process.once('SIGINT', r)));
    case 'restart': {
      const c = positionals[0] as Component | undefined;
      if (!c) throw new Error('usage: ecomnet restart gateway|product|order');
      await (await import('../runtime/start-order.ts')).restartService(defaultTopology, runDirAt(), c, progress);
      return 0;
    }
    case 'fault':
      return cmdFault(positionals, v);
    case 'observe':
    case 'top':
      return (await import('./observe.ts')).observe({ once: Boolean(v.once), watch: Boolean(v.watch) || command === 'top', json: Boolean(v.json), ...(v.port ? { port: Number(v.port) } : {}) });
    case 'doctor': {
      const [{ doctor }, { table }] = await Promise.all([import('../host/doctor.ts'), import('../util/text.ts')]);
      const checks = await doctor(defaultTopology);
      console.log(table([['', 'CHECK', 'DETAIL'], ...checks.map((c) => [c.ok ? 'ok' : 'FAIL', c.name, c.detail])]));
      const missing = [...new Set(checks.filter((c) => !c.ok && c.detail.startsWith('missing: apt-get install ')).map((c) => c.detail.slice('missing: apt-get install '.length)))];
      if (missing.length) console.log(`\ninstall: sudo apt-get install -y ${missing.join(' ')}`);
      return checks.every((c) => c.ok) ? 0 : 1;
    }
    case 'diagram':
      return (await import('./diagram.ts')).runDiagram([...(v.live ? ['--live'] : []), ...(v.svg ? ['--svg', v.svg] : [])]);
    case 'verify':
      if (v['two-hosts'] || v['build-a'] !== undefined || v['build-b'] !== undefined || v.hosts !== undefined) {
        if (!v['two-hosts']) throw new UsageError('--build-a, --build-b and --hosts grade course day 6: with --two-hosts');
        return (await import('./verify-day6.ts')).verifyDay6({
          build: v.build as string | undefined,
          buildA: v['build-a'] as string | undefined,
          buildB: v['build-b'] as string | undefined,
          hosts: v.hosts as string | undefined,
          reports: v.reports as string | undefined,
          json: Boolean(v.json),
          // None given: ecomnet's platform, if it is what runs there, hands its logins over (the handshake).
          ...(v['pg-url'] !== undefined || v['redis-url'] !== undefined
            ? {
                credentials: {
                  ...(v['pg-url'] !== undefined ? { pgUrl: v['pg-url'] as string } : {}),
                  ...(v['redis-url'] !== undefined ? { redisUrl: v['redis-url'] as string } : {}),
                },
              }
            : {}),
          seedOnly: ['only', 'phase', 'teardown', 'docker-forward'].filter((k) => v[k as keyof typeof v] !== undefined),
        });
      }
      return (await import('./verify.ts')).verify({
        pgUrl: (v['pg-url'] as string | undefined) ?? process.env.ECOMNET_PG_URL,
        redisUrl: (v['redis-url'] as string | undefined) ?? process.env.ECOMNET_REDIS_URL,
        reports: v.reports as string | undefined,
        only: v.only as string | undefined,
        phase: v.phase as string | undefined,
        build: v.build as string | undefined,
        teardown: v.teardown as string | undefined,
        dockerForward: Boolean(v['docker-forward']),
        json: Boolean(v.json),
      });
    case 'grade':
      return (await import('./grade.ts')).gradeCommand({
        dirs: positionals,
        jobs: v.jobs as string | undefined,
        shard: v.shard as string | undefined,
        merge: Boolean(v.merge),
        only: v.only as string | undefined,
        script: v.script as string | undefined,
        reports: v.reports as string | undefined,
        dockerForward: Boolean(v['docker-forward']),
      });
    default:
      console.error(usage);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

// A closed pipe (`ecomnet down | head`) must not kill a teardown half way.
process.stdout.on('error', () => {});

/**
 * Exit once what was printed has gone to its pipe: process.exit drops a pipe's pending writes,
 * and a `verify --json` result is larger than a pipe holds (its reader got it cut short).
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exitAfterOutput, (e: Error) => {
  console.error(`ecomnet: ${e.message}`);
  // verify and grade document 3 for a command line they cannot read; the others, 2.
  const grading = ['verify', 'grade'].includes(process.argv[2] ?? '');
  exitAfterOutput(e instanceof UsageError ? (grading ? 3 : 2) : 1);
});
