import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { gatherFacts } from '../../src/host/facts.ts';
import { detectBackend, taggedLines } from '../../src/host/iptables.ts';
import { declaredRules } from '../../src/plan/rules.ts';
import type { RuleDoc } from '../../src/report/types.ts';
import { outside } from '../support/checks.ts';
import { deliverable, evidenceDir, sh } from '../support/evidence.ts';
import { parseSave } from '../support/netfilter.ts';
import { rules } from '../support/seed.ts';
import { dnatProbes, failures, forwardProbes, masqueradeProbes } from '../support/seed-rules.ts';

const backend = await detectBackend();

/** The live rule set as `iptables-save` prints it, recorded as the evidence. */
async function saved(): Promise<string> {
  const r = await sh(backend.save);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

const { masquerade: m, dnat: d, forward: f } = rules;

describe("1.4 the seed's iptables rules are live, recognised by what they do to packets, not by our tags", () => {
  it(`${m.table} ${m.chain} masquerades ${m.source} leaving by anything but ${m.notOut} (-s ${m.source} ! -o ${m.notOut} -j MASQUERADE)`, async () => {
    deliverable('1.4-nat-rules');
    expect(failures(parseSave(await saved()), masqueradeProbes(outside))).toEqual([]);
  });

  it(`${d.table} ${d.chain} sends ${d.proto} ${d.dport} for the host to nginx-lb (-p ${d.proto} --dport ${d.dport} -j DNAT --to-destination ${d.to})`, async () => {
    deliverable('1.4-nat-rules');
    expect(failures(parseSave(await saved()), dnatProbes(outside))).toEqual([]);
  });

  it(`${f.table} ${f.chain}, through the chains it jumps to, accepts by a rule the forwarded connection to ${f.destination}:${f.dport} and the bridge's traffic, whatever the policy`, async () => {
    deliverable('1.4-nat-rules');
    expect(failures(parseSave(await saved()), forwardProbes(outside))).toEqual([]);
  });
});

describe("the report's rules table: our tagged rules, each with its reason (report only: no deliverable rests on our plan)", async () => {
  const declared = declaredRules(topology, await gatherFacts(topology, backend), { guard: inject('platform').guard });
  const idOf = (line: string) => new RegExp(`--comment "?${topology.tag}:([^" ]+)`).exec(line)?.[1];

  it('every rule we declared is live under its tag, in its chain; rules.json pairs each live line with why it exists', async () => {
    const tagged = taggedLines(await saved(), topology.tag);
    const rows: RuleDoc[] = declared.map((r) => {
      const line = tagged.get(r.table)?.find((l) => idOf(l) === r.id);
      expect(line, `rule ${r.id} is not live`).toBeDefined();
      expect(line!.startsWith(`-A ${r.chain} `), `${r.id} is in ${r.chain}`).toBe(true);
      return { table: r.table, chain: r.chain, rule: line!, id: r.id, why: r.why };
    });
    expect(rows.length).toBeGreaterThan(0);
    writeFileSync(join(evidenceDir, 'rules.json'), JSON.stringify(rows, null, 1));
  });

  it('nothing tagged ours is live that we did not declare', async () => {
    const tagged = [...taggedLines(await saved(), topology.tag).values()].flat();
    expect(tagged.map(idOf).sort()).toEqual(declared.map((r) => r.id).sort());
  });

  it('every rule has its one-line explanation', () => {
    expect(declared.length).toBeGreaterThan(0);
    for (const r of declared) expect(r.why, r.id).toMatch(/^[A-Z].{20,}\.$/);
  });
});
