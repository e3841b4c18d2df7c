/**
 * ecomnet's own platform across two hosts (course day 6): `up --topology two-hosts --virtual-hosts`
 * brings each host's half up in a virtual host of its own on one underlay, and the grader, which
 * knows day 6 only from its contract and looks only at the live hosts, scores it as it scores a
 * learner's two-host build. The shop is served on host A's port 8080 to A's external client, its
 * data kept on host B.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/host/exec.ts';
import { type HostsUp, shopArgv, upInVirtualHosts } from '../../src/cli/virtual-hosts.ts';
import { order, orderCreated, products } from '../../src/grader/contract.ts';
import { day6Deliverables } from '../../src/grader/day6/deliverables.ts';
import { type Day6Result, gradeDay6 } from '../../src/grader/day6/grade.ts';
import { vhostMachine } from '../../src/grader/day6/build.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import { proveDay6 } from '../support/evidence.ts';

const t = twoHosts;
let up: HostsUp;

beforeAll(async () => {
  up = await upInVirtualHosts(t, 'two-hosts', { data: 'native', policy: 'deny', say: () => {} });
}, 120_000);
afterAll(async () => {
  await up?.destroy();
});

const host = (name: string) => up.hosts.find((h) => h.name === name)!.vh;
const machine = (name: string) => vhostMachine(name, host(name));

describe('ecomnet up --topology two-hosts --virtual-hosts', () => {
  it('each host runs its half of the split: the web tier on host A, the data tier on host B', async () => {
    for (const h of t.hosts!.list) {
      const listed = (await host(h.name).exec(['ip', 'netns', 'list'])).stdout;
      const app = t.app.nodes.map((n) => n.name).filter((n) => new RegExp(`^${n}( |$)`, 'm').test(listed));
      expect(app.sort(), h.name).toEqual([...h.nodes].sort());
      const vxlan = JSON.parse((await host(h.name).exec(['ip', '-j', '-d', 'link', 'show', 'type', 'vxlan'])).stdout);
      expect(vxlan, h.name).toHaveLength(1);
    }
  });

  describe('the grader scores every day-6 deliverable on it, the underlay captured on the switch between the hosts', () => {
    let graded: Day6Result;
    let at: string;
    beforeAll(async () => {
      at = new Date().toISOString();
      graded = await gradeDay6(machine('host-a'), machine('host-b'), { capture: { prefix: host('host-a').lanArgv([]), dev: 'lan0' } });
    }, 60_000);

    // One test per deliverable, so the test run's report judges each on its own, with the commands the grader ran for it.
    it.for(day6Deliverables)('$id: $title', (d) => {
      const v = graded.deliverables.find((x) => x.id === d.id);
      proveDay6(d.id, v?.evidence ?? [], at);
      expect(v, `the grader gave no verdict on ${d.id}`).toBeDefined();
      expect(v!.status, v!.reason).toBe('pass');
    });

    it('with nothing to diagnose', () => {
      expect(graded.diagnoses).toEqual([]);
    });

    it("6-seed is the seed's own grader on both hosts as one lab: all its deliverables pass (host B's platform hands over its logins, as verify's handshake does on one host), each command run on the host holding what it asks about", () => {
      const seed = graded.seed;
      expect(seed.deliverables.filter((d) => d.status !== 'pass').map((d) => `${d.id}: ${d.status} ${d.reason ?? ''}`)).toEqual([]);
      expect(seed.score).toMatchObject({ points: 27, max: 27 });
      const ran = (id: string) => seed.outcomes.filter((o) => o.deliverable === id).flatMap((o) => o.evidence);
      // Redis is asked on host B, where it runs; the gateway's namespace on host A; both hosts list their namespaces.
      expect(new Set(ran('2.3-redis-listening').map((c) => c.host))).toEqual(new Set(['host-b']));
      expect(new Set(ran('2.2-health-inside').map((c) => c.host))).toEqual(new Set(['host-a']));
      expect(
        ran('1.1-netns-list')
          .map((c) => c.host)
          .sort(),
      ).toEqual(['host-a', 'host-b']);
      // The product check crosses: its cache is read on host B, its requests made on host A.
      expect(new Set(ran('2.3-product-reaches-redis').map((c) => c.host))).toEqual(new Set(['host-a', 'host-b']));
    });
  });

  it("host A's external client gets the seed's products on port 8080, and an order it places is stored on host B", async () => {
    const a = host('host-a');
    const got = await a.exec(shopArgv(t));
    expect(JSON.parse(got.stdout)).toEqual(products);
    const count = async () => JSON.parse((await a.exec(shopArgv(t, '/api/orders'))).stdout).count as number;
    const n = await count();
    const placed = await a.exec([...shopArgv(t, '/api/orders'), '-H', 'Content-Type: application/json', '-d', JSON.stringify(order)]);
    expect(JSON.parse(placed.stdout)).toMatchObject(orderCreated);
    expect(await count()).toBe(n + 1);
    // The row is in host B's PostgreSQL: host A has no PostgreSQL at all.
    expect((await a.exec(['sh', '-c', 'pgrep -x postgres || true'])).stdout.trim()).toBe('');
    const inPg = await host('host-b').exec(['sh', '-c', 'for p in $(ip netns pids postgres-db); do cat /proc/$p/comm; done']);
    expect(inPg.stdout.split('\n')).toContain('postgres');
  }, 60_000);

  it("under east-west deny no transfer can cross, so the namespaces' MTUs are judged: one left at 1500 on host B fails 6-mtu, named", async () => {
    const b = host('host-b');
    const veth = t.app.nodes.find((n) => n.component === 'redis')!.veth;
    await b.exec(['ip', '-n', 'redis-cache', 'link', 'set', veth, 'mtu', '1500']);
    try {
      const a = host('host-a');
      const result = await gradeDay6(machine('host-a'), machine('host-b'), { capture: { prefix: a.lanArgv([]), dev: 'lan0' } });
      const mtu = result.deliverables.find((d) => d.id === '6-mtu')!;
      expect(mtu.status).toBe('fail');
      expect(mtu.reason).toContain(`redis-cache ${veth} has MTU 1500`);
    } finally {
      await b.exec(['ip', '-n', 'redis-cache', 'link', 'set', veth, 'mtu', '1450']);
    }
  }, 60_000);

  it("`ecomnet verify --two-hosts --hosts PID_A,PID_B` judges it as it stands: every day-6 deliverable passes, the seed's 27 with them, exit 0", async () => {
    const reports = mkdtempSync(join('/var/tmp', 'ecomnet-two-hosts-verify-'));
    try {
      const r = await run([process.execPath, 'bin/ecomnet.js', 'verify', '--two-hosts', '--hosts', up.hosts.map((h) => h.vh.pid).join(','), '--reports', reports], {
        allowFail: true,
        timeoutMs: 120_000,
      });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^✓ 6-seed /m);
      expect(r.stdout).toMatch(/^the seed's deliverables across both hosts: 27\/27 pass$/m);
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  }, 150_000);

  it('nothing of it is on this machine: no overlay, no underlay address', async () => {
    const links = (await run(['ip', '-o', 'link', 'show'])).stdout;
    expect(links).not.toMatch(new RegExp(`: ${t.hosts!.overlay.name}[:@]`));
    const addrs = (await run(['ip', '-o', '-4', 'addr', 'show'])).stdout;
    for (const h of t.hosts!.list) expect(addrs).not.toContain(` ${h.underlay}/`);
  });
});
