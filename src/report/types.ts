/** The shapes that flow from a run (tests, evidence, lead's artifacts) into the report. */
import type { Deviation, Finding as Diagnosis } from '../grader/diagnose.ts';
import type { Deliverable } from '../grader/deliverables.ts';
import type { Captured, Matrix } from '../grader/evidence.ts';

export type { Captured, Matrix, MatrixCell } from '../grader/evidence.ts';

/** One line of reports/.evidence/*.jsonl. */
export interface EvidenceRecord extends Captured {
  file: string;
  test: string;
  /** Vitest's task id, so the reporter can join evidence to results without name matching. */
  testId?: string;
  deliverables: string[];
}

/** One probe of the east-west truth table: can `from` open `to` (a service's address, or ICMP)? */
export interface PolicyCell {
  from: string;
  to: string;
  /** host:port for TCP, or the namespace's address for ICMP. */
  address: string;
  proto: 'tcp' | 'icmp';
  expected: boolean;
  observed: boolean;
  /** The flow (or other reason) that allows it; absent when denied. */
  why?: string;
}

/** reports/.evidence/policy.json: every source namespace x destination x service port, expected against observed. */
export interface PolicyTable {
  policy: string;
  data: string;
  sources: string[];
  cells: PolicyCell[];
  summary: string;
}

/** One row of the traffic table: a pair's counts over the burst (the observer's samples after minus before). */
export interface TrafficRow {
  from: string;
  to: string;
  /** A path pair's protocol and destination port; absent on an off-path row, which sums every protocol and port. */
  proto?: string;
  port?: number;
  /** On the request path (why it carries the burst), or a pair the path does not use, which must carry nothing. */
  onPath: boolean;
  why?: string;
  opened: number;
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
}

/** The burst as it was sent: its command line and what curl said of each request. */
export interface TrafficBurst {
  command: string;
  /** The namespace it was sent from, and where to (the host's address and forwarded port). */
  from: string;
  target: string;
  requests: { method: string; path: string; count: number; statuses: Record<string, number> }[];
  /** Bytes curl sent (request heads and bodies) and received (response heads and bodies), summed. */
  requestBytes: number;
  responseBytes: number;
  startedAt: string;
  endedAt: string;
}

/** reports/.evidence/traffic.json, written by suites/phase2/traffic.test.ts from the observer's samples. */
export interface TrafficCapture {
  data: string;
  burst: TrafficBurst;
  /** Path pairs first, in the request's order, then every off-path pair. */
  rows: TrafficRow[];
  /** Bytes per second (both ways) of each path pair, sample by sample around the burst; `t` in seconds from its start. */
  series: { t: number[]; lines: { pair: string; bytesPerSecond: number[] }[] };
  summary: string;
}

/** One entry of reports/.evidence/rules.json: a live iptables-save line with its reason. */
export interface RuleDoc {
  table: string;
  chain: string;
  rule: string;
  id: string;
  why: string;
}

/** reports/.evidence/meta.json: how the platform was brought up, or that verify judged one already there. */
/** The mode a report names when `ecomnet verify` judged whatever platform stood on the host. */
export const VERIFY_MODE = 'verify: existing platform';

export interface RunMeta {
  /** How the platform was brought up, or how verify stood outside the build it judged. */
  mode: string;
  kernel: string;
  iptablesBackend: string;
  node: string;
  startedAt: string;
}

/** Vitest's states, with todo told apart from skipped; pending is a test an interrupted run never finished. */
export type TestState = 'passed' | 'failed' | 'skipped' | 'todo' | 'pending';

/** A finished Vitest test case, flattened to plain data. */
export interface TestOutcome {
  id: string;
  /** Relative to the repository root, so a report reads the same on any machine. */
  file: string;
  name: string;
  state: TestState;
  durationMs: number;
  startedAt?: string;
  errors: string[];
  /** Skip reason, when the test called ctx.skip(note). */
  note?: string;
  deliverables: string[];
}

/**
 * A test file whose tests could not all run: it failed to load, a beforeAll failed, or the run
 * ended before the file started. Its tests never reached deliverable(), so nothing tags them.
 */
export interface BlockedFile {
  /** Relative to the repository root, as in Deliverable.suites. */
  file: string;
  errors: string[];
}

/** npm test's: pass, fail, or missing (no test proved it); verify's: pass, fail, inconclusive (the grader could not judge it) or not graded (not selected). */
export type DeliverableStatus = 'pass' | 'fail' | 'missing' | 'inconclusive' | 'not graded';

export interface DeliverableResult extends Deliverable {
  status: DeliverableStatus;
  durationMs: number;
  tests: TestOutcome[];
  evidence: EvidenceRecord[];
}

/** The grader's diagnosis of a failing deliverable, and a difference from the seed it accepted. */
export type { Deviation, Diagnosis };

/** The host as the run ended, read by discovery: its diagram, what differs from the contract, and why deliverables failed. */
export interface LiveHost {
  svg: string;
  findings: string[];
  diagnoses: Diagnosis[];
  deviations: Deviation[];
  /** What the seed does not ask for but a person may try (the host's own curl localhost:8080), never a failure. */
  advice: Deviation[];
}

/** Everything renderDeliverables needs; optional parts render as "not captured". */
export interface ReportInput {
  generatedAt: string;
  /** Who made the report: the platform's tag for npm test, `verify` for a graded build. */
  title: string;
  /** The points of the graded deliverables that passed, out of those graded (verify). */
  score?: { points: number; max: number; graded: number; of: number };
  results: DeliverableResult[];
  /** Course day 6's deliverables, judged apart from the seed's (npm test's report; absent from verify's). */
  day6?: DeliverableResult[];
  meta?: RunMeta;
  matrix?: Matrix;
  policy?: PolicyTable;
  rules?: RuleDoc[];
  traffic?: TrafficCapture;
  /** Every test of the run, deliverable or not; absent, the test totals render as "not captured". */
  tests?: TestOutcome[];
  /** Failures outside any test (global setup, collection, unhandled errors). */
  runErrors: string[];
  /** The live host at the run's end; absent when no platform suite ran. */
  live?: LiveHost;
}

declare module 'vitest' {
  interface TaskMeta {
    /** Seed deliverable ids the test proves, set by deliverable() in suites/support/evidence.ts. */
    deliverables?: string[];
  }
}
