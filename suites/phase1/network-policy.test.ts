import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { allowedBy, serviceAddress } from '../../src/plan/policy.ts';
import type { PolicyCell, PolicyTable } from '../../src/report/types.ts';
import type { NodeSpec } from '../../src/topology/types.ts';
import { nsCommand } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { platformInfo } from '../support/platform.ts';

/**
 * East-west truth table (an ecomnet extra, not a seed deliverable), in the style of Kubernetes'
 * network-policy tests: every app namespace tries every other namespace's service port (TCP
 * connect) and its address (ICMP echo), from inside itself, all at once; what it observes is
 * compared with what the topology's flows expect.
 */

const info = platformInfo();
// A state of a version before the policy had none: the flat network.
const policy = info.policy ?? 'open';
const data = info.data;
const nodes = topology.app.nodes;

interface Probe {
  from: NodeSpec;
  to: NodeSpec;
  proto: 'tcp' | 'icmp';
  address: string;
}

const probes: Probe[] = nodes.flatMap((from) =>
  nodes
    .filter((to) => to !== from)
    .flatMap((to) => {
      const at = serviceAddress(topology, to, data);
      return [...(at ? [{ from, to, proto: 'tcp' as const, address: `${at.host}:${at.port}` }] : []), { from, to, proto: 'icmp' as const, address: to.ip }];
    }),
);

/** One shell per source namespace, its probes in parallel inside it: `nc -z -w 1` for TCP, two pings for ICMP (an ARP miss costs the first). */
function probeLine(list: Probe[]): string {
  const tries = list.map((p) => {
    const [host, port] = p.address.split(':');
    const test = p.proto === 'tcp' ? `nc -z -w 1 ${host} ${port}` : `ping -c 2 -i 0.2 -W 1 ${host}`;
    return `(${test} >/dev/null 2>&1 && echo '${p.proto} ${p.address} open' || echo '${p.proto} ${p.address} closed') &`;
  });
  return `bash -c "${tries.join(' ')} wait"`;
}

async function observe(): Promise<PolicyCell[]> {
  const bySource = await Promise.all(
    nodes.map(async (from) => {
      const mine = probes.filter((p) => p.from === from);
      const r = await recordedShell(nsCommand(from.name, probeLine(mine)), { timeoutMs: 15_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const seen = new Map(r.stdout.split('\n').map((l) => [l.split(' ').slice(0, 2).join(' '), l.endsWith(' open')]));
      return mine.map((p): PolicyCell => {
        const observed = seen.get(`${p.proto} ${p.address}`);
        if (observed === undefined) throw new Error(`${from.name}: no result for ${p.proto} ${p.address} in:\n${r.stdout}`);
        const why = p.proto === 'icmp' ? 'ICMP between all namespaces' : allowedBy(topology, policy, p.from, p.to, p.to.port!);
        return { from: from.name, to: p.to.name, address: p.address, proto: p.proto, expected: p.proto === 'icmp' || why !== undefined, observed, ...(why ? { why } : {}) };
      });
    }),
  );
  return bySource.flat();
}

/** The table as text, sources down, destinations across: `.` connected, `X` not, `!` after a mismatch. */
function asText(cells: PolicyCell[], proto: 'tcp' | 'icmp'): string {
  const mine = cells.filter((c) => c.proto === proto);
  const cols = nodes.flatMap((n) => [...new Set(mine.filter((c) => c.to === n.name).map((c) => `${c.to} ${c.address}`))]);
  const width = Math.max(...nodes.map((n) => n.name.length));
  const rows = nodes.map((from) => {
    const marks = cols.map((col) => {
      const c = mine.find((x) => x.from === from.name && `${x.to} ${x.address}` === col);
      const mark = !c ? '-' : `${c.observed ? '.' : 'X'}${c.expected !== c.observed ? '!' : ' '}`;
      return mark.padEnd(col.length);
    });
    return `${from.name.padEnd(width)}  ${marks.join('  ')}`;
  });
  return [`${proto === 'tcp' ? 'TCP connect' : 'ICMP echo'}`.padEnd(width + 2) + cols.join('  '), ...rows].join('\n');
}

describe(`east-west policy (${policy}): every namespace x every other x its service port, expected against observed`, () => {
  if (info.networkOnly) console.log('east-west truth table: skipped: the platform is network-only, no service listens');
  it.skipIf(info.networkOnly)(`${probes.length} probes from inside the ${nodes.length} namespaces match the topology's flows`, async () => {
    const cells = await observe();
    const mismatches = cells.filter((c) => c.expected !== c.observed);
    const allowed = cells.filter((c) => c.proto === 'tcp' && c.observed).length;
    const tcp = cells.filter((c) => c.proto === 'tcp').length;
    const summary = `policy ${policy}: ${allowed}/${tcp} service connections open, ${mismatches.length} mismatch${mismatches.length === 1 ? '' : 'es'} with the topology's flows`;
    const table: PolicyTable = { policy, data, sources: nodes.map((n) => n.name), cells, summary };
    writeFileSync(reportPaths().policy, JSON.stringify(table));
    console.log(`${summary}\n${asText(cells, 'tcp')}\n${asText(cells, 'icmp')}`);
    expect(cells).toHaveLength(probes.length);
    expect(mismatches.map((c) => `${c.from} -> ${c.to} ${c.proto} ${c.address}: expected ${c.expected ? 'open' : 'closed'}, observed ${c.observed ? 'open' : 'closed'}`)).toEqual([]);
    // Deny by default must deny something: nginx-lb reaching the data layer was the finding.
    if (policy === 'deny') expect(cells.filter((c) => !c.expected).length).toBeGreaterThan(0);
  });
});

describe.runIf(policy === 'deny')('east-west policy: nothing bypasses the IPv4 chain', () => {
  it('no app namespace has an IPv6 address (a server on :: would otherwise be reached over link-local from any other)', async () => {
    const found = await Promise.all(nodes.map(async (n) => ({ ns: n.name, r: await recordedShell(nsCommand(n.name, 'ip -6 -o addr show')) })));
    for (const { r } of found) expect(r.exitCode, r.stderr).toBe(0);
    expect(found.filter(({ r }) => r.stdout.trim() !== '').map(({ ns, r }) => `${ns}: ${r.stdout.trim()}`)).toEqual([]);
  });
});
