/** A made-up but complete run, so the report can be rendered and inspected without a platform. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topology } from '../../src/topology/default.ts';
import { diagramFindings, liveDiagramSvg } from '../../src/grader/live-diagram.ts';
import type { HostModel } from '../../src/grader/model.ts';
import type { Pair } from '../../src/observe/types.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { day6Deliverables } from '../../src/grader/day6/deliverables.ts';
import { buildResults } from '../../src/report/results.ts';
import { requestPath, trafficCapture } from '../../src/report/traffic.ts';
import type { DeliverableResult, EvidenceRecord, ReportInput, TestOutcome, TrafficCapture } from '../../src/report/types.ts';

export const FAILING = '2.4-order-written';
export const MISSING = '2.3-redis-listening';
export const FAILURE_MESSAGE = 'AssertionError: expected 503 to be 201';
export const HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';

const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, i)).toISOString();

function outcome(i: number, id: string): TestOutcome {
  const failed = id === FAILING;
  const skipped = id === MISSING;
  return {
    id: `t${i}`,
    file: `suites/phase${id[0]}/synthetic.test.ts`,
    name: `proves ${id}`,
    state: failed ? 'failed' : skipped ? 'skipped' : 'passed',
    durationMs: 10 + i,
    startedAt: at(i),
    errors: failed ? [FAILURE_MESSAGE] : [],
    note: skipped ? 'redis not installed' : undefined,
    deliverables: skipped ? [] : [id],
  };
}

function evidence(i: number, t: TestOutcome): EvidenceRecord {
  const failed = t.state === 'failed';
  return {
    command: `ip netns exec ${topology.app.nodes[i % topology.app.nodes.length]!.name} true # ${t.name}`,
    stdout: failed ? `{"error":"upstream down"} ${HOSTILE}` : `output of ${t.name}`,
    stderr: failed ? 'curl: (22) The requested URL returned error: 503' : '',
    exitCode: failed ? 22 : 0,
    durationMs: 5,
    at: at(i),
    file: t.file,
    test: t.name,
    testId: t.id,
    deliverables: t.deliverables,
  };
}

/** A live host read off a running platform (fixtures/host-model.json), for the report's diagram. */
const hostModel = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'host-model.json'), 'utf8')) as HostModel;
export const DIAGNOSIS = 'gateway-not-listening';

/** A pair's counts as pairDelta gives them (rates and live connections do not matter to the report). */
export function pairOf(from: string, to: string, port: number, opened: number, packets: number, bytes: number): Pair {
  return { from, to, proto: 'tcp', port, opened, live: 0, packetsOut: packets, bytesOut: bytes, packetsIn: packets, bytesIn: bytes * 3, rate: { opened: 0, packets: 0, bytes: 0 } };
}

/** A burst of 220 requests as the traffic suite captures one: counts on each path pair, one off-path pair `noisy` (none by default). */
export function syntheticTraffic(noisy?: { from: string; to: string }): TrafficCapture {
  const path = requestPath(topology, 'native', () => undefined);
  const delta = [...path.map((p, i) => pairOf(p.from, p.to, p.port, i === 0 ? 220 : 2, 1100 - i * 150, 90_000 - i * 12_000)), ...(noisy ? [pairOf(noisy.from, noisy.to, 5000, 1, 5, 300)] : [])];
  const steps = [-2, -1, 0, 1, 2, 3].map((t, j) => ({
    at: at(30 + t),
    seconds: 1,
    delta: t < 0 || t > 1 ? [] : delta.map((d) => ({ ...d, bytesOut: d.bytesOut / 2, bytesIn: d.bytesIn / 2 + j })),
  }));
  return trafficCapture({
    data: 'native',
    burst: {
      command: `ip netns exec ext-client curl -sS -H 'Connection: close' ... ${HOSTILE}`,
      from: 'ext-client',
      target: '203.0.113.129:8080',
      requests: [
        { method: 'GET', path: '/api/products', count: 200, statuses: { '200': 200 } },
        { method: 'POST', path: '/api/orders', count: 20, statuses: { '201': 20 } },
      ],
      requestBytes: 30_000,
      responseBytes: 150_000,
      startedAt: at(29),
      endedAt: at(30),
    },
    path,
    names: [...topology.app.nodes.map((n) => n.name), 'ext-client'],
    delta,
    steps,
  });
}

export function syntheticInput(overrides: Partial<ReportInput> = {}): ReportInput {
  const tests = deliverables.map((d, i) => outcome(i, d.id));
  const records = tests.filter((t) => t.state !== 'skipped').map((t, i) => evidence(i, t));
  const names = topology.app.nodes.map((n) => n.name);
  return {
    generatedAt: at(59),
    title: topology.tag,
    results: buildResults(deliverables, tests, records),
    tests,
    meta: { mode: 'native', kernel: '6.1.0-test', iptablesBackend: 'nf_tables', node: 'v24.0.0', startedAt: at(0) },
    matrix: {
      nodes: names,
      cells: names.flatMap((from) => names.map((to) => ({ from, to, expected: true, received: !(from === names[0] && to === names[1]) }))),
      summary: `${names.length * names.length - 1} of ${names.length * names.length} as expected`,
    },
    traffic: syntheticTraffic(),
    rules: [
      { table: 'nat', chain: 'POSTROUTING', rule: `-A POSTROUTING -s ${topology.app.subnet} ! -o ${topology.app.bridge.name} -j MASQUERADE`, id: 'masq', why: 'egress <hidden> behind the host' },
    ],
    runErrors: [],
    live: {
      svg: liveDiagramSvg(hostModel),
      findings: diagramFindings(hostModel),
      diagnoses: [{ id: DIAGNOSIS, cause: 'nothing listens on 10.0.0.20:3000 in api-gateway', fix: 'sudo ip netns exec api-gateway python3 /tmp/api-gateway.py &', deliverables: [FAILING] }],
      deviations: [{ id: 'bridge-renamed', text: "the app bridge is br0, not the seed's br-app", deliverables: ['1.2-bridge'] }],
      advice: [{ id: 'host-clients-not-forwarded', text: "the host's own curl localhost:8080 does not reach nginx", deliverables: ['2.1-health-host'] }],
    },
    ...overrides,
  };
}

export const DAY6_FAILING = '6-mtu';
export const DAY6_MISSING = '6-addresses';
export const DAY6_FAILURE = 'AssertionError: redis-cache eth0 has MTU 1500: expected fail to be pass';

/** Course day 6 as the two-host suite proves it: one test per deliverable, one failing, one that never ran. */
export function syntheticDay6(): DeliverableResult[] {
  const tests = day6Deliverables
    .filter((d) => d.id !== DAY6_MISSING)
    .map((d, i): TestOutcome => {
      const failed = d.id === DAY6_FAILING;
      return {
        id: `d6-${i}`,
        file: 'suites/vhost/two-hosts.test.ts',
        name: `${d.id}: ${d.title}`,
        state: failed ? 'failed' : 'passed',
        durationMs: 3,
        startedAt: at(40 + i),
        errors: failed ? [DAY6_FAILURE] : [],
        deliverables: [d.id],
      };
    });
  const records = tests.map(
    (t, i): EvidenceRecord => ({
      command: `[host-a] ip netns exec nginx-lb ping -n -c1 -W2 10.0.0.${50 + i}`,
      stdout: `1 packets transmitted, 1 received ${HOSTILE}`,
      stderr: '',
      exitCode: t.state === 'failed' ? 1 : 0,
      durationMs: 0,
      at: at(40 + i),
      file: t.file,
      test: t.name,
      testId: t.id,
      deliverables: t.deliverables,
    }),
  );
  return buildResults(day6Deliverables, tests, records);
}
