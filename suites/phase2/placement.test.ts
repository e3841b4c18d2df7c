import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { parseCpuList, usableCpus } from '../../src/runtime/placement.ts';
import { recordedShell } from '../support/evidence.ts';

/**
 * ecomnet's own platform (not a seed deliverable): a request's consecutive hops (each declared
 * flow, nginx-lb -> api-gateway -> product-service -> redis-cache and on to the orders) run on
 * different CPUs, so one hop never queues behind the next on a single core. Read from the live
 * host: each namespace's servers (the processes holding its listening sockets, so not a test's or the
 * observer's passing command), with the CPUs the kernel lets them run on.
 */
const namespaces = topology.app.nodes.map((n) => n.name);
const LINE = /^(\S+) (\d+) (\S+)$/;

describe('CPU placement of the request path', () => {
  it("each flow's two ends run on CPUs of their own: no CPU shared by consecutive hops", async (ctx) => {
    if (usableCpus().length < 2) {
      const reason = `skipped: this host gives us ${usableCpus().length} CPU, so there is nothing to place`;
      console.log(reason);
      ctx.skip(reason);
    }
    const r = await recordedShell(
      `for ns in ${namespaces.join(' ')}; do for pid in $(ip netns exec $ns ss -Hltnp | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do echo "$ns $pid $(awk '/^Cpus_allowed_list/{print $2}' /proc/$pid/status)"; done; done`,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const cpus = new Map<string, Set<number>>();
    for (const line of r.stdout.trim().split('\n')) {
      const [, ns, , list] = LINE.exec(line) ?? [];
      if (!ns || !list) continue;
      cpus.set(ns, new Set([...(cpus.get(ns) ?? []), ...parseCpuList(list)]));
    }
    // Containers mode: the data servers run in Docker's containers, not in these namespaces.
    const judged = topology.flows!.filter((f) => cpus.has(f.from) && cpus.has(f.to));
    expect(judged.map((f) => f.from)).toContain(topology.portForwards[0]!.node);
    for (const f of judged) {
      const shared = [...cpus.get(f.from)!].filter((c) => cpus.get(f.to)!.has(c));
      expect(shared, `${f.from} (CPUs ${[...cpus.get(f.from)!]}) -> ${f.to} (CPUs ${[...cpus.get(f.to)!]})`).toEqual([]);
    }
  });
});
