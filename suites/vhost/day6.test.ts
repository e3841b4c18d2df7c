/**
 * Grading a learner's two-host build (course day 6): learner/day6/host.sh run once per host, each
 * in a virtual host on one underlay, scores every day-6 deliverable; each classic fault, one small
 * edit of one host's script (or both), fails a day-6 deliverable and is diagnosed with its own cause.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Edit, mutate } from '../../setup/catalogue.ts';
import { type Day6Result, gradeDay6 } from '../../src/grader/day6/grade.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import { virtualHostsOf } from '../../src/vhost/hosts.ts';

const hosts = twoHosts.hosts!;
const [ipA, ipB] = hosts.list.map((h) => h.underlay);
const script = readFileSync(new URL('../../learner/day6/host.sh', import.meta.url), 'utf8');

interface Day6Mutant {
  name: string;
  diagnosis: string;
  /** The learner's edits, to host A's copy of the script, host B's, or both. */
  a?: Edit[];
  b?: Edit[];
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
];

/** Both hosts built (in parallel) from their scripts and graded, the underlay captured on the switch between them. */
async function buildAndGrade(a = script, b = script, o: { alsoOnEth0?: boolean } = {}): Promise<{ result: Day6Result; onEth0?: Day6Result; exits: number[] }> {
  const [ha, hb] = await virtualHostsOf(hosts);
  try {
    const exits = await Promise.all([
      ha!.exec(['bash', '-s', 'a', ipA!, ipB!], { input: a, allowFail: true, timeoutMs: 30_000 }),
      hb!.exec(['bash', '-s', 'b', ipB!, ipA!], { input: b, allowFail: true, timeoutMs: 30_000 }),
    ]);
    const machines = [
      { name: 'host-a', exec: ha!.exec.bind(ha) },
      { name: 'host-b', exec: hb!.exec.bind(hb) },
    ] as const;
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

describe('course day 6: grading a two-host build (learner/day6/host.sh, one virtual host per host)', () => {
  it('the unmutated build scores every day-6 deliverable, and no cause is named', async () => {
    const { result, onEth0, exits } = await buildAndGrade(script, script, { alsoOnEth0: true });
    expect(exits).toEqual([0, 0]);
    expect(failed(result), summary(result)).toEqual([]);
    expect(failed(onEth0!), summary(onEth0!)).toEqual([]);
    expect(result.deliverables.map((d) => d.id)).toEqual(['6-overlay', '6-underlay', '6-mtu', '6-addresses']);
    expect(result.diagnoses).toEqual([]);
    // Plain JSON, for verify and the report.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  }, 90_000);

  it('each classic fault is killed (a day-6 deliverable fails) and diagnosed with its own cause', async () => {
    const graded = await pooled(mutants, 3, async (m) => ({ m, ...(await buildAndGrade(mutate(script, m.a ?? []), mutate(script, m.b ?? []))) }));
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
    for (const { m, exits } of graded) expect(exits, `${m.name} builds`).toEqual([0, 0]);
    expect(rows).toEqual(mutants.map((m) => ({ mutant: m.name, failed: expect.arrayContaining([expect.any(String)]), diagnoses: [m.diagnosis], named: [m.diagnosis] })));
  }, 240_000);
});
