/**
 * Grading a learner's two-host build (course day 6): learner/day6/host.sh run once per host, each
 * in a virtual host on one underlay, network and services, scores every day-6 deliverable; each
 * classic fault, one small edit of one host's build (or both), fails a day-6 deliverable and is
 * diagnosed with its own cause.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Edit, mutateFiles } from '../../setup/catalogue.ts';
import { type Day6Result, gradeDay6 } from '../../src/grader/day6/grade.ts';
import { vhostMachine } from '../../src/grader/day6/build.ts';
import { priv } from '../../src/host/exec.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import { virtualHostsOf } from '../../src/vhost/hosts.ts';
import type { VirtualHost } from '../../src/vhost/vhost.ts';
import { repeatsNative } from '../../setup/mutation-setup.ts';

const hosts = twoHosts.hosts!;
const [ipA, ipB] = hosts.list.map((h) => h.underlay);
const learner = join(import.meta.dirname, '..', '..', 'learner');
/** The build: host.sh and the Phase 2 it sources, by their paths under learner/. */
const build: Record<string, string> = Object.fromEntries(['day6/host.sh', 'lib/services.sh'].map((f) => [f, readFileSync(join(learner, f), 'utf8')]));
/** Where each virtual host gets its copy (its /run is its own). */
const inside = '/run/learner';

interface Day6Mutant {
  name: string;
  diagnosis: string;
  /** The learner's edits, to host A's copy of the script, host B's, or both. */
  a?: Edit[];
  b?: Edit[];
  /** The builds' exit codes, when a fault stops one. */
  exits?: [number, number];
}

const vxlanLine = 'ip link add vxlan100 type vxlan id 100 remote "$OTHER" dstport 4789 dev eth0';
const mtuLines = [
  'nginx-lb ip link set veth-nginx',
  'api-gateway ip link set veth-api',
  'product-service ip link set veth-product',
  'order-service ip link set veth-order',
  'redis-cache ip link set veth-redis',
  'postgres-db ip link set veth-pg',
];

const mutants: Day6Mutant[] = [
  { name: 'wrong-remote', diagnosis: 'vxlan-wrong-remote', a: [{ find: vxlanLine, typed: vxlanLine.replace('"$OTHER"', '192.0.2.3'), all: true }] },
  { name: 'vni-mismatch', diagnosis: 'vxlan-vni-mismatch', b: [{ find: vxlanLine, typed: vxlanLine.replace('id 100', 'id 200'), all: true }] },
  // Left out, dstport is Linux's own 8472.
  { name: 'port-mismatch', diagnosis: 'vxlan-port-mismatch', a: [{ find: vxlanLine, typed: vxlanLine.replace(' dstport 4789', ''), all: true }] },
  {
    name: 'udp-4789-dropped',
    diagnosis: 'underlay-udp-dropped',
    b: [{ find: 'ip link set vxlan100 up\n', typed: 'ip link set vxlan100 up\niptables -A INPUT -p udp --dport 4789 -j DROP\n', all: true }],
  },
  { name: 'not-enslaved', diagnosis: 'vxlan-not-enslaved', a: [{ find: 'ip link set vxlan100 master br-app\n', typed: '', all: true }] },
  {
    name: 'mtu-1500',
    diagnosis: 'overlay-mtu-too-big',
    a: mtuLines.slice(0, 4).map((l) => ({ find: `ip netns exec ${l} mtu 1450\n`, typed: '' })),
    b: mtuLines.slice(4).map((l) => ({ find: `ip netns exec ${l} mtu 1450\n`, typed: '' })),
  },
  // The seed's gateway typed on both hosts.
  { name: 'same-address', diagnosis: 'app-address-on-both-hosts', b: [{ find: '10.0.0.2', typed: '10.0.0.1', all: true }] },
  // Host B's build stops at its createdb over 10.0.0.60, as the learner's would; host A's services find no PostgreSQL across the overlay.
  {
    name: 'postgres-loopback-only',
    diagnosis: 'data-loopback-only',
    b: [{ find: '-c listen_addresses=10.0.0.60 -c port=5432', typed: '-c listen_addresses=127.0.0.1 -c port=5432' }],
    exits: [0, 1],
  },
  { name: 'redis-not-started', diagnosis: 'data-not-listening', b: [{ find: 'ip netns exec redis-cache redis-server --bind', typed: 'ip netns exec redis-cache redis-srv --bind' }] },
];

/** One PostgreSQL cluster for every host B, copied (learner/pg-template.sh) instead of an initdb each. */
let template: string | undefined;
beforeAll(() => {
  const parent = mkdtempSync('/var/tmp/ecomnet-day6-pg-');
  // The postgres user passes through to the cluster it owns there.
  chmodSync(parent, 0o711);
  const made = spawnSync('bash', [join(learner, 'pg-template.sh'), join(parent, 'pgdata')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`learner/pg-template.sh failed: ${made.stderr}`);
  template = join(parent, 'pgdata');
}, 60_000);
afterAll(async () => {
  if (template) await priv(['rm', '-rf', join(template, '..')]);
});

/** The build's files written into a virtual host, and host.sh run there for its half. */
async function buildIn(vh: VirtualHost, files: Record<string, string>, argv: string[]) {
  for (const [path, text] of Object.entries(files)) {
    await vh.exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat >"$1"', 'sh', `${inside}/${path}`], { input: text });
  }
  // Host A waits up to 30 s for host B's PostgreSQL before its order service.
  return vh.exec(['env', `LEARNER_PGDATA_TEMPLATE=${template}`, 'bash', `${inside}/day6/host.sh`, ...argv], { allowFail: true, timeoutMs: 90_000 });
}

/** Both hosts built (in parallel) from their scripts and graded, the underlay captured on the switch between them. */
async function buildAndGrade(a = build, b = build, o: { alsoOnEth0?: boolean } = {}): Promise<{ result: Day6Result; onEth0?: Day6Result; exits: number[] }> {
  const [ha, hb] = await virtualHostsOf(hosts);
  try {
    const exits = await Promise.all([buildIn(ha!, a, ['a', ipA!, ipB!]), buildIn(hb!, b, ['b', ipB!, ipA!])]);
    const machines = [vhostMachine('host-a', ha!), vhostMachine('host-b', hb!)] as const;
    const result = await gradeDay6(...machines, { capture: { prefix: ha!.lanArgv([]), dev: 'lan0' } });
    // Without a capture point, as on two real machines: host A's own eth0.
    const onEth0 = o.alsoOnEth0 ? await gradeDay6(...machines) : undefined;
    return { result, ...(onEth0 ? { onEth0 } : {}), exits: exits.map((r) => r.exitCode) };
  } finally {
    await Promise.all([ha!.destroy(), hb!.destroy()]);
  }
}

const failed = (r: Day6Result) => r.deliverables.filter((d) => d.status === 'fail').map((d) => d.id);
const summary = (r: Day6Result) => r.deliverables.map((d) => `${d.id}: ${d.status}${d.reason ? ` (${d.reason})` : ''}`).join('\n');

/** `f` over `items`, at most `n` at a time. */
async function pooled<T, R>(items: T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

if (repeatsNative) console.log("day6.test.ts: skipped: ECOMNET_DATA=containers changes only ecomnet's own platform, which the learner's two-host build does not use; the native run grades it");

describe.skipIf(repeatsNative)('course day 6: grading a two-host build (learner/day6/host.sh, one virtual host per host)', () => {
  it('the unmutated build scores every day-6 deliverable, and no cause is named', async () => {
    const { result, onEth0, exits } = await buildAndGrade(build, build, { alsoOnEth0: true });
    expect(exits).toEqual([0, 0]);
    expect(failed(result), summary(result)).toEqual([]);
    expect(failed(onEth0!), summary(onEth0!)).toEqual([]);
    expect(result.deliverables.map((d) => d.id)).toEqual(['6-overlay', '6-underlay', '6-mtu', '6-addresses', '6-e2e', '6-seed']);
    // The seed's grader, which has met only one-host builds, judges the learner's split build as one lab: every deliverable passes.
    expect(result.seed.deliverables.filter((d) => d.status !== 'pass').map((d) => `${d.id}: ${d.status} ${d.reason ?? ''}`)).toEqual([]);
    expect(result.seed.score).toMatchObject({ points: 27, max: 27 });
    expect(result.diagnoses).toEqual([]);
    // Plain JSON, for verify and the report.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  }, 180_000);

  it('each classic fault is killed (a day-6 deliverable fails) and diagnosed with its own cause', async () => {
    const graded = await pooled(mutants, 3, async (m) => ({ m, ...(await buildAndGrade(mutateFiles(build, m.a ?? []), mutateFiles(build, m.b ?? []))) }));
    const rows = graded.map(({ m, result }) => ({
      mutant: m.name,
      failed: failed(result),
      diagnoses: result.diagnoses.map((d) => d.id),
      named: result.diagnoses.filter((d) => d.deliverables.length > 0).map((d) => d.id),
    }));
    console.log(
      graded
        .map(
          ({ m, result }) =>
            `${m.name}: fails ${failed(result).join(', ') || 'nothing'}; causes ${result.diagnoses.map((d) => `${d.id} [${d.deliverables.join(', ')}]`).join(', ') || 'none'}\n  ${summary(result).replaceAll('\n', '\n  ')}`,
        )
        .join('\n'),
    );
    for (const { m, exits } of graded) expect(exits, `${m.name} builds`).toEqual(m.exits ?? [0, 0]);
    // The data tier's faults are seen end to end, and only there.
    for (const name of ['postgres-loopback-only', 'redis-not-started']) expect(rows.find((r) => r.mutant === name)?.failed, name).toEqual(['6-e2e', '6-seed']);
    expect(rows).toEqual(mutants.map((m) => ({ mutant: m.name, failed: expect.arrayContaining([expect.any(String)]), diagnoses: [m.diagnosis], named: [m.diagnosis] })));
  }, 600_000);
});
