/**
 * Grading a learner's two-host build (course day 6): both hosts discovered, day 6's deliverables
 * judged live with their evidence, and each failing one given its causes from the discovered state.
 * The result is plain JSON (for `ecomnet verify` and the report).
 */
import { addresses, type CapturePoint, endToEnd, overlay, overlayMtu, titles, underlay, type Verdict } from './checks.ts';
import { vxlan } from './contract.ts';
import { type Day6Id, diagnoseDay6 } from './diagnose.ts';
import { discoverHost, evidenceOf, type HostState, type Machine } from './discover.ts';
import { linuxDefaultPort } from './contract.ts';
import { grade, type GradeResult } from '../grade.ts';
import type { Credentials } from '../logins.ts';

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
  /** The seed's deliverables judged on the lab the two hosts make together (split.ts). */
  seed: GradeResult;
  deliverables: (Verdict & { causes: string[] })[];
  diagnoses: Day6Finding[];
  durationMs: number;
}

export interface Day6Options {
  capture?: CapturePoint;
  /** The logins the seed's checks use across both hosts; else ecomnet's platform's handed over, else the seed's. */
  seed?: { credentials?: Credentials };
}

/** 6-seed from the seed's grade: its verdict, the first reasons, and as evidence every command it ran, on its host. */
function seedVerdict(r: GradeResult): Verdict {
  const off = r.deliverables.filter((d) => d.status === 'fail' || d.status === 'inconclusive');
  const why = [...off.map((d) => `${d.id} ${d.status === 'fail' ? 'fails' : 'was not judged'}${d.reason ? `: ${d.reason}` : ''}`), ...r.errors];
  const evidence = r.outcomes.flatMap((o) => o.evidence.map((c) => evidenceOf(c.host ?? 'this machine', c)));
  const verdict: Verdict = { id: '6-seed', title: titles['6-seed'], status: r.verdict, evidence };
  return why.length ? { ...verdict, reason: `${r.score.points}/${r.score.max} of the seed's deliverables pass; ${why.join('; ')}` } : verdict;
}

export async function gradeDay6(a: Machine, b: Machine, o: Day6Options = {}): Promise<Day6Result> {
  const started = performance.now();
  const ports = [vxlan.port, linuxDefaultPort];
  const [sa, sb] = await Promise.all([discoverHost(a, ports), discoverHost(b, ports)]);
  const ctx = { a, b, sa, sb, ...(o.capture ? { capture: o.capture } : {}) };
  // The capture goes alone: the other checks' pings would be in it.
  const [ov, mt, e2e] = await Promise.all([overlay(ctx), overlayMtu(ctx), endToEnd(ctx)]);
  const un = await underlay(ctx);
  // After the capture, which must go alone: the seed's checks cross the overlay too.
  const seed = await grade({ hosts: [a, b], ...(o.seed?.credentials ? { credentials: o.seed.credentials } : {}), matrix: false });
  const verdicts = [ov, un, mt, addresses(ctx), e2e, seedVerdict(seed)];
  const failing = new Set(verdicts.filter((v) => v.status === 'fail').map((v) => v.id));
  const diagnoses = diagnoseDay6(sa, sb).map((f) => ({ id: f.id, cause: f.cause, fix: f.fix, deliverables: f.breaks.filter((id) => failing.has(id)) }));
  return {
    hosts: [sa, sb],
    seed,
    deliverables: verdicts.map((v) => ({ ...v, causes: diagnoses.filter((d) => d.deliverables.includes(v.id)).map((d) => d.id) })),
    diagnoses,
    durationMs: Math.round(performance.now() - started),
  };
}
