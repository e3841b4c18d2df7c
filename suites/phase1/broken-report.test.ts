import { afterAll, describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { detectBackend, restore, save, taggedLines } from '../../src/host/iptables.ts';
import { deliverables } from '../../src/grader/deliverables.ts';
import { esc } from '../../src/util/text.ts';
import { renderDeliverables } from '../../src/report/render.ts';
import { buildResults } from '../../src/report/results.ts';
import type { EvidenceRecord, TestOutcome } from '../../src/report/types.ts';
import { viaForward } from '../support/checks.ts';
import type { Captured } from '../support/evidence.ts';

const id = '1.4-external-client';
const dnatId = `dnat-${topology.portForwards[0]!.hostPort}`;

/**
 * The report must show a broken platform as broken: this removes the live DNAT rule, runs the
 * deliverable's own check against the real platform, renders a report from what it captured,
 * and puts the rule back exactly as it was.
 */
describe('a deliberately broken platform shows in the report as the failing deliverable, with its output', () => {
  let removed = '';

  afterAll(async () => {
    if (removed) await restore(await detectBackend(), `*nat\n${removed}\nCOMMIT\n`);
    removed = '';
  });

  it(`without the DNAT rule, ${id} fails and the report leads with it and what curl printed`, async () => {
    const backend = await detectBackend();
    const line = taggedLines(await save(backend, 'nat'), topology.tag).find((l) => l.id === dnatId)?.line;
    expect(line, 'the DNAT rule is live before the test').toBeDefined();
    await restore(backend, `*nat\n-D ${line!.slice(3)}\nCOMMIT\n`);
    removed = line!;

    const broken: Captured = await viaForward.externalClient();
    expect(broken.exitCode).not.toBe(0);

    const outcome: TestOutcome = {
      id: 'broken-1',
      file: 'suites/phase1/port-forward.test.ts',
      name: 'the external client reaches nginx',
      state: 'failed',
      durationMs: broken.durationMs,
      startedAt: broken.at,
      errors: [`AssertionError: expected ${broken.exitCode} to be 0`],
      deliverables: [id],
    };
    const record: EvidenceRecord = { ...broken, file: outcome.file, test: outcome.name, testId: outcome.id, deliverables: [id] };
    const results = buildResults(deliverables, [outcome], [record]);
    expect(results.find((r) => r.id === id)?.status).toBe('fail');
    const html = renderDeliverables({ generatedAt: new Date().toISOString(), title: topology.tag, results, runErrors: [] });
    const failing = html.slice(html.indexOf('Failing deliverables'));
    expect(failing.slice(0, 400)).toContain(id);
    expect(html).toContain(esc(broken.stderr.trim().split('\n')[0]!));
    expect(html).toMatch(/curl: \(7\)|Connection refused|timed out/);

    await restore(backend, `*nat\n${removed}\nCOMMIT\n`);
    removed = '';
    const healed = await viaForward.externalClient();
    expect(healed.stdout).toBe('OK\n');
  });
});
