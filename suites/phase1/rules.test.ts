import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { detectBackend, save, taggedLines } from '../../src/host/iptables.ts';
import { gatherFacts } from '../../src/host/facts.ts';
import { declaredRules } from '../../src/plan/rules.ts';
import { deliverable, evidenceDir, sh } from '../support/evidence.ts';

const idOf = (line: string) => new RegExp(`--comment "?${topology.tag}:([^" ]+)`).exec(line)?.[1];

describe('iptables rules: what we declared is live, each explained, and nothing else is tagged ours', async () => {
  const backend = await detectBackend();
  const info = inject('platform');
  const facts = await gatherFacts(topology, backend);
  const declared = declaredRules(topology, facts, { guard: info.guard });

  it('the live rule set holds every declared rule, in its table and chain, with its matches and target', async () => {
    deliverable('1.4-nat-rules');
    const live = await sh(`${backend.save}`);
    const tagged = taggedLines(live.stdout, topology.tag);
    const rows = [];
    for (const r of declared) {
      const lines = tagged.get(r.table) ?? [];
      const line = lines.find((l) => idOf(l) === r.id);
      expect(line, `rule ${r.id} is not live`).toBeDefined();
      expect(line!.startsWith(`-A ${r.chain} `), `${r.id} is in ${r.chain}`).toBe(true);
      // iptables-save spells some matches its own way (-m tcp, 6 for tcp): compare the words that carry meaning.
      for (const word of [...r.match, ...r.target].filter((w) => !w.startsWith('-') && w !== '!')) expect(line, r.id).toContain(word);
      rows.push({ table: r.table, chain: r.chain, rule: line, id: r.id, why: r.why, seed: r.seed });
    }
    writeFileSync(join(evidenceDir, 'rules.json'), JSON.stringify(rows, null, 1));
  });

  it('nothing tagged ours is live that we did not declare', async () => {
    const tagged = [...taggedLines(await save(backend), topology.tag).values()].flat();
    expect(tagged.map(idOf).sort()).toEqual(declared.map((r) => r.id).sort());
  });

  it('every rule has its one-line explanation', () => {
    for (const r of declared) expect(r.why, r.id).toMatch(/^[A-Z].{20,}\.$/);
  });

  it('FORWARD accepts sit above the host policy: first in FORWARD, or in DOCKER-USER where Docker runs', async () => {
    const chain = facts.dockerUser ? 'DOCKER-USER' : 'FORWARD';
    const r = await sh(`iptables -S ${chain}`);
    const rules = r.stdout.split('\n').filter((l) => l.startsWith('-A '));
    const ours = declared.filter((d) => d.table === 'filter').length;
    expect(rules.slice(0, ours).every((l) => l.includes(`${topology.tag}:`))).toBe(true);
  });
});
