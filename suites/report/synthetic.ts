/** A made-up but complete run, so the report can be rendered and inspected without a platform. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topology } from '../../fixtures/topology.ts';
import { diagramFindings, liveDiagramSvg } from '../../src/grader/diagram.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { deliverables } from '../../src/report/deliverables.ts';
import { buildResults } from '../../src/report/results.ts';
import type { EvidenceRecord, ReportInput, TestOutcome } from '../../src/report/types.ts';

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

/** A live host read off a running platform (suites/fixtures/host-model.json), for the report's diagram. */
const hostModel = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'host-model.json'), 'utf8')) as HostModel;
export const DIAGNOSIS = 'gateway-not-listening';

export function syntheticInput(overrides: Partial<ReportInput> = {}): ReportInput {
  const tests = deliverables.map((d, i) => outcome(i, d.id));
  const records = tests.filter((t) => t.state !== 'skipped').map((t, i) => evidence(i, t));
  const names = topology.app.nodes.map((n) => n.name);
  return {
    generatedAt: at(59),
    topology,
    results: buildResults(deliverables, tests, records),
    tests,
    meta: { mode: 'native', kernel: '6.1.0-test', iptablesBackend: 'nf_tables', node: 'v24.0.0', startedAt: at(0) },
    matrix: {
      nodes: names,
      cells: names.flatMap((from) => names.map((to) => ({ from, to, expected: true, received: !(from === names[0] && to === names[1]) }))),
      summary: `${names.length * names.length - 1} of ${names.length * names.length} as expected`,
    },
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
