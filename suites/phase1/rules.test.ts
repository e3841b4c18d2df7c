import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { priv } from '../../src/host/exec.ts';
import { gatherFacts } from '../../src/host/facts.ts';
import { detectBackend, nsSaves, taggedLines } from '../../src/host/iptables.ts';
import { nsFirewalls } from '../../src/plan/policy.ts';
import { comment, declaredJumps, declaredRules, JUMP_ID } from '../../src/plan/rules.ts';
import type { RuleDoc } from '../../src/report/types.ts';
import { evidenceDir } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { parseSave } from '../../src/grader/netfilter.ts';
import { platformInfo } from '../support/platform.ts';

const backend = await detectBackend();

describe("1.4 the seed's iptables rules are live, recognised by what they do to packets, however they are spelled", () => {
  judged(checksOf('1.4-nat-rules'));
});

// ecomnet's own: it reads ecomnet's plan and state to pair rules with their reasons.
describe("the report's rules table: our chains, their jumps and tagged rules, each with its reason (report only: no deliverable rests on our plan)", async () => {
  const facts = await gatherFacts(topology, backend);
  const declared = declaredRules(topology, facts, { guard: platformInfo().guard, policy: platformInfo().policy ?? 'open', data: platformInfo().data });
  const jumps = declaredJumps(topology, facts, declared);
  const firewalls = nsFirewalls(topology, platformInfo().policy ?? 'open');
  /** Where each tagged line belongs: rules in our chains, jumps in the chains that enter them. */
  const placed = [...declared.map((r) => ({ chain: r.chain, id: r.id, why: r.why })), ...jumps.map((j) => ({ chain: j.from, id: JUMP_ID, why: j.why }))];
  /** The same in each namespace's own filter table (the east-west policy). */
  const placedIn = (f: (typeof firewalls)[number]) => [...f.rules.map((r) => ({ chain: r.chain, id: r.id, why: r.why })), { chain: f.jump.from, id: JUMP_ID, why: f.jump.why }];
  /** One live rule set for the whole group, which only reads it; not evidence (a hook has no test to attach it to), and a failing save fails the hook. */
  let savedRules = '';
  let nsSaved = new Map<string, string>();
  beforeAll(async () => {
    savedRules = (await priv([backend.save])).stdout;
    nsSaved = await nsSaves(
      backend,
      firewalls.map((f) => f.ns),
    );
  });

  it('every rule we declared is live once under its tag, in its chain of ours, entered by its jump; rules.json pairs each live line with why it exists', () => {
    const tagged = taggedLines(savedRules, topology.tag);
    const live = (table: string, chain: string, id: string) => {
      const found = tagged.filter((l) => l.table === table && l.chain === chain && l.id === id);
      expect(
        found.map((l) => l.line),
        `${table} ${chain} ${comment(topology.tag, id)} is live once`,
      ).toHaveLength(1);
      return found[0]!.line;
    };
    // Each jump, then the rules of the chain it enters: the order a reader follows a packet in.
    const rows: RuleDoc[] = jumps.flatMap((j) => [
      { table: j.table, chain: j.from, rule: live(j.table, j.from, JUMP_ID), id: JUMP_ID, why: j.why },
      ...declared.filter((r) => r.chain === j.chain).map((r) => ({ table: r.table, chain: r.chain, rule: live(r.table, r.chain, r.id), id: r.id, why: r.why })),
    ]);
    expect(rows).toHaveLength(placed.length);
    // Then each namespace's policy chain, its table named with the namespace it lives in.
    for (const f of firewalls) {
      const tagged = taggedLines(nsSaved.get(f.ns) ?? '', topology.tag);
      const line = (chain: string, id: string) => {
        const found = tagged.filter((l) => l.chain === chain && l.id === id);
        expect(found, `${f.ns}: ${chain} ${comment(topology.tag, id)} is live once`).toHaveLength(1);
        return found[0]!.line;
      };
      const table = `filter (netns ${f.ns})`;
      rows.push(
        { table, chain: f.jump.from, rule: line(f.jump.from, JUMP_ID), id: JUMP_ID, why: f.jump.why },
        ...f.rules.map((r) => ({ table, chain: r.chain, rule: line(r.chain, r.id), id: r.id, why: r.why })),
      );
    }
    writeFileSync(join(evidenceDir, 'rules.json'), JSON.stringify(rows, null, 1));
  });

  it('nothing tagged ours is live that we did not declare, nor anywhere else', () => {
    const live = taggedLines(savedRules, topology.tag).map((l) => `${l.chain} ${l.id}`);
    expect(live.sort()).toEqual(placed.map((p) => `${p.chain} ${p.id}`).sort());
    for (const f of firewalls) {
      const inNs = taggedLines(nsSaved.get(f.ns) ?? '', topology.tag).map((l) => `${l.chain} ${l.id}`);
      expect(inNs.sort(), f.ns).toEqual(
        placedIn(f)
          .map((p) => `${p.chain} ${p.id}`)
          .sort(),
      );
    }
  });

  it('an inserted jump is the first rule of its chain, so nothing of the host pre-empts ours', () => {
    const rs = parseSave(savedRules);
    const inserted = jumps.filter((j) => j.insert);
    expect(inserted.length).toBeGreaterThan(0);
    for (const j of inserted) expect(rs.rules.find((r) => r.table === j.table && r.chain === j.from)?.target, `${j.table} ${j.from}`).toBe(j.chain);
  });

  it('every rule and jump has its one-line explanation', () => {
    expect(placed.length).toBeGreaterThan(0);
    for (const r of [...placed, ...firewalls.flatMap(placedIn)]) expect(r.why, `${r.chain} ${r.id}`).toMatch(/^[A-Z].{20,}\.$/);
  });
});
