import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deliverables } from '../../src/grader/deliverables.ts';
import type { DeliverableVerdict, GradeResult, OutcomeData, Status } from '../../src/grader/grade.ts';
import { classroomResult, junitXml, writeGradeReports } from '../../src/report/grade-report.ts';
import { MASK } from '../../src/report/redact.ts';
import type { ResultsJson } from '../../src/report/results.ts';
import type { Captured } from '../../src/report/types.ts';

/**
 * The reports of one graded build, from a hand-made grade: four deliverables graded (a pass worth
 * two points, two failures, one the grader could not judge), the rest not graded, and a password
 * the grader was given quoted in its evidence, a reason, a diagnosis and the diagram.
 */

const SECRET = 'given-Pa55word-9f2c';
const at = '2026-12-06T10:00:00.000Z';

const captured = (command: string, stdout: string, exitCode = 0): Captured => ({ command, stdout, stderr: '', exitCode, durationMs: 12, at });

const outcome = (deliverable: string, verdict: OutcomeData['verdict'], durationMs: number, evidence: Captured[], reason?: string): OutcomeData => ({
  id: deliverable,
  deliverable,
  title: `check of ${deliverable}`,
  verdict,
  ...(reason ? { reason } : {}),
  evidence,
  startedAt: at,
  durationMs,
});

const BRIDGE_REASON = 'br-app is UP with 10.0.0.1: "br-app <DOWN> & no carrier" does not match';
const NAT_REASON = `filter FORWARD: DNATed 203.0.113.130 -> 10.0.0.10:80: wanted ACCEPT, got DROP by the policy (FORWARD); login postgres://orders_reader:${SECRET}@10.0.0.60`;
const PSQL_REASON = 'the grader needs psql (apt-get install postgresql-client), which this host lacks';

const graded: Record<string, { status: Exclude<Status, 'not graded'>; points?: number; reason?: string }> = {
  '1.1-netns-list': { status: 'pass', points: 2 },
  '1.2-bridge': { status: 'fail', reason: BRIDGE_REASON },
  '1.4-nat-rules': { status: 'fail', reason: NAT_REASON },
  '2.4-order-written': { status: 'inconclusive', reason: PSQL_REASON },
};

function gradeResult(): GradeResult {
  const list: DeliverableVerdict[] = deliverables.map((d) => {
    const g = graded[d.id];
    return { id: d.id, title: d.title, task: d.task, points: g?.points ?? d.points, status: g?.status ?? 'not graded', ...(g?.reason ? { reason: g.reason } : {}) };
  });
  const scored = list.filter((d) => d.status !== 'not graded');
  return {
    startedAt: at,
    durationMs: 4321,
    host: { kernel: '6.1.0-test', iptablesBackend: 'nf_tables', node: 'v24.0.0', outside: 'probe' },
    deliverables: list,
    outcomes: [
      outcome('1.1-netns-list', 'pass', 250, [captured('ip netns list', 'nginx-lb\napi-gateway\n')]),
      outcome('1.2-bridge', 'fail', 1500, [captured('ip -br addr show br-app', 'br-app DOWN\n')], BRIDGE_REASON),
      outcome('1.4-nat-rules', 'fail', 30, [captured('iptables -t nat -L -v -n', `Chain PREROUTING (policy ACCEPT)\n# ${SECRET}\n`)], NAT_REASON),
      outcome('2.4-order-written', 'inconclusive', 0, [], PSQL_REASON),
    ],
    diagnoses: [
      { id: 'bridge-down', cause: 'br-app is down: nothing crosses it', fix: 'sudo ip link set br-app up', deliverables: ['1.2-bridge'] },
      {
        id: 'forward-drops-dnat',
        cause: "FORWARD drops nginx-lb's replies to the client",
        fix: `sudo iptables -I FORWARD -o br-uplink -i br-app -j ACCEPT # ${SECRET}`,
        deliverables: ['1.4-nat-rules'],
      },
    ],
    deviations: [{ id: 'bridge-renamed', text: "the app bridge is br0, not the seed's br-app", deliverables: ['1.2-bridge'] }],
    advice: [],
    diagram: { svg: `<svg xmlns="http://www.w3.org/2000/svg"><text>${SECRET}</text></svg>`, findings: [`bridge br-app: down (${SECRET})`] },
    score: { points: scored.filter((d) => d.status === 'pass').reduce((s, d) => s + d.points, 0), max: scored.reduce((s, d) => s + d.points, 0), graded: scored.length, of: list.length },
    errors: [],
    verdict: 'fail',
  };
}

describe('classroomResult: GitHub Classroom autograding (version 1)', () => {
  const c = classroomResult(gradeResult());

  it('one test per graded deliverable, the not graded left out; max_score the graded points', () => {
    expect(c.version).toBe(1);
    expect(c.status).toBe('fail');
    expect(c.max_score).toBe(5);
    expect(c.tests.map((t) => t.name)).toEqual(Object.keys(graded).map((id) => `${id} ${deliverables.find((d) => d.id === id)!.title}`));
  });

  it('a pass scores its points; a fail or an inconclusive (error) none, with the reason and the diagnosis', () => {
    const by = Object.fromEntries(c.tests.map((t) => [t.name.split(' ')[0], t]));
    expect(Object.values(by).map((t) => [t.status, t.score])).toEqual([
      ['pass', 2],
      ['fail', 0],
      ['fail', 0],
      ['error', 0],
    ]);
    expect(by['1.1-netns-list']).toMatchObject({ message: '', test_code: 'ecomnet verify --only 1.1-netns-list', execution_time: '0.25s', filename: '', line_no: 0 });
    expect(by['1.2-bridge']!.message).toBe(`${BRIDGE_REASON}\nbr-app is down: nothing crosses it Fix: sudo ip link set br-app up`);
    expect(by['1.2-bridge']!.execution_time).toBe('1.50s');
    expect(by['2.4-order-written']!.message).toBe(PSQL_REASON);
    expect(c.tests.reduce((s, t) => s + t.score, 0)).toBe(gradeResult().score.points);
  });

  it("the run's status: pass only when all passed, error when nothing failed but something could not be judged", () => {
    expect(classroomResult({ ...gradeResult(), verdict: 'inconclusive' }).status).toBe('error');
    expect(classroomResult({ ...gradeResult(), verdict: 'pass' }).status).toBe('pass');
  });
});

describe('junitXml: a test case per check', () => {
  const xml = junitXml(gradeResult());

  it('counts the checks, failures and skips (inconclusive)', () => {
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="ecomnet verify" tests="4" failures="2" errors="0" time="4\.321">/);
    expect(xml).toContain('<testsuite name="seed deliverables" tests="4" failures="2" skipped="1" errors="0">');
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml.match(/<failure /g)).toHaveLength(2);
    expect(xml.match(/<skipped /g)).toHaveLength(1);
    expect(xml).toContain(`<testcase classname="1.1-netns-list" name="check of 1.1-netns-list" time="0.250"></testcase>`);
    expect(xml).toContain(`<skipped message="inconclusive: ${PSQL_REASON}"/>`);
  });

  it('escapes what it quotes', () => {
    expect(xml).toContain('<failure message="br-app is UP with 10.0.0.1: &quot;br-app &lt;DOWN&gt; &amp; no carrier&quot; does not match"/>');
    expect(xml).not.toContain('<DOWN>');
    // Every element is closed: nothing quoted opened one.
    const opened = xml.match(/<(testsuites|testsuite|testcase)[ >]/g)!.length;
    expect(xml.match(/<\/(testsuites|testsuite|testcase)>/g)).toHaveLength(opened);
  });
});

describe('writeGradeReports: the files of one grade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-grade-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const r = gradeResult();
  const page = writeGradeReports(r, dir, { title: 'verify', secrets: [SECRET] });
  const files = ['deliverables.html', 'results.json', 'junit.xml', 'classroom.json'];
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  it('writes the page, results.json, junit.xml and classroom.json', () => {
    expect(page).toBe(join(dir, 'deliverables.html'));
    for (const f of files) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, 'build.log'))).toBe(false);
  });

  it("results.json: each deliverable's status, the score and the verdict", () => {
    const json = JSON.parse(read('results.json')) as ResultsJson & { exitVerdict: string };
    expect(Object.fromEntries(json.deliverables.map((d) => [d.id, d.status]))).toEqual(Object.fromEntries(deliverables.map((d) => [d.id, graded[d.id]?.status ?? 'not graded'])));
    expect(json.score).toEqual({ points: 2, max: 5, graded: 4, of: deliverables.length });
    expect(json.counts).toEqual({ pass: 1, fail: 2, missing: 0, inconclusive: 1, 'not graded': deliverables.length - 4 });
    expect(json.exitVerdict).toBe('fail');
    expect(json.ok).toBe(false);
    expect(json.diagnoses.map((d) => d.id)).toEqual(['bridge-down', 'forward-drops-dnat']);
    expect(json.deliverables.find((d) => d.id === '1.2-bridge')!.tests[0]).toMatchObject({ state: 'failed', errors: [BRIDGE_REASON], file: 'src/grader/checks' });
  });

  it('the page: every deliverable with its status, and the score', () => {
    const html = read('deliverables.html');
    for (const d of deliverables) expect(html, d.id).toContain(`data-deliverable="${d.id}" data-status="${graded[d.id]?.status ?? 'not graded'}"`);
    expect(html).toContain('data-score="2/5"');
    expect(html).toContain('score: 2/5</b> (4 of 27 deliverables graded)');
  });

  it('the classroom and JUnit files are the functions above, as written', () => {
    expect(JSON.parse(read('classroom.json'))).toEqual(JSON.parse(JSON.stringify(classroomResult(r)).replaceAll(SECRET, MASK)));
    expect(read('junit.xml')).toBe(junitXml(r).replaceAll(SECRET, MASK));
  });

  it('a password the grader was given appears in no file, masked wherever it was quoted', () => {
    for (const f of files) {
      const text = read(f);
      expect(text.includes(SECRET), f).toBe(false);
      expect(text.includes(encodeURIComponent(SECRET)), f).toBe(false);
    }
    expect(read('junit.xml')).toContain(MASK);
    expect(read('classroom.json')).toContain(MASK);
    expect(read('deliverables.html')).toContain(MASK);
  });
});
