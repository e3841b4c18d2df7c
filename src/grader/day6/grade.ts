/**
 * Grading a learner's two-host build (course day 6): both hosts discovered, day 6's deliverables
 * judged live with their evidence, and each failing one given its causes from the discovered state.
 * The result is plain JSON (for `ecomnet verify` and the report).
 */
import { addresses, type CapturePoint, endToEnd, overlay, overlayMtu, underlay, type Verdict } from './checks.ts';
import { vxlan } from './contract.ts';
import { type Day6Id, diagnoseDay6 } from './diagnose.ts';
import { discoverHost, type HostState, type Machine } from './discover.ts';
import { linuxDefaultPort } from './contract.ts';

export type { CapturePoint } from './checks.ts';
export type { Machine } from './discover.ts';

export interface Day6Finding {
  id: string;
  cause: string;
  fix: string;
  /** The failing deliverables it explains (empty: a fault nothing failed of, yet). */
  deliverables: Day6Id[];
}

export interface Day6Result {
  hosts: HostState[];
  deliverables: (Verdict & { causes: string[] })[];
  diagnoses: Day6Finding[];
  durationMs: number;
}

export async function gradeDay6(a: Machine, b: Machine, o: { capture?: CapturePoint } = {}): Promise<Day6Result> {
  const started = performance.now();
  const ports = [vxlan.port, linuxDefaultPort];
  const [sa, sb] = await Promise.all([discoverHost(a, ports), discoverHost(b, ports)]);
  const ctx = { a, b, sa, sb, ...(o.capture ? { capture: o.capture } : {}) };
  // The capture goes alone: the other checks' pings would be in it.
  const [ov, mt, e2e] = await Promise.all([overlay(ctx), overlayMtu(ctx), endToEnd(ctx)]);
  const un = await underlay(ctx);
  const verdicts = [ov, un, mt, addresses(ctx), e2e];
  const failing = new Set(verdicts.filter((v) => v.status === 'fail').map((v) => v.id));
  const diagnoses = diagnoseDay6(sa, sb).map((f) => ({ id: f.id, cause: f.cause, fix: f.fix, deliverables: f.breaks.filter((id) => failing.has(id)) }));
  return {
    hosts: [sa, sb],
    deliverables: verdicts.map((v) => ({ ...v, causes: diagnoses.filter((d) => d.deliverables.includes(v.id)).map((d) => d.id) })),
    diagnoses,
    durationMs: Math.round(performance.now() - started),
  };
}
