import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type Check, Failed, Inconclusive, type Lab } from '../../src/grader/checks/trial.ts';
import { deliverables, phaseOf, selectDeliverables } from '../../src/grader/deliverables.ts';
import { EXIT, exitCodeOf, type GradeResult, type OutcomeData, runChecks, statusOf } from '../../src/grader/grade.ts';
import { judgeRules } from '../../src/grader/judge.ts';
import { pgLogin, redisLogin } from '../../src/grader/logins.ts';
import type { HostModel } from '../../src/grader/model.ts';

const ids = (list: { id: string }[]) => list.map((d) => d.id);

describe('selectDeliverables: what --only grades', () => {
  it("a task gives its deliverables in the seed's order: 1.2's five", () => {
    expect(ids(selectDeliverables('1.2'))).toEqual(['1.2-diagram', '1.2-bridge', '1.2-veth', '1.2-ping-nginx', '1.2-ping-gateway']);
    expect(ids(selectDeliverables('1.3'))).toEqual(['1.3-internet']);
  });

  it('a phase gives every task of it, and the two phases split the catalogue', () => {
    const two = selectDeliverables('phase2');
    const one = selectDeliverables('phase1');
    expect(two.length).toBeGreaterThan(0);
    expect(two.every((d) => d.task.startsWith('2.') && phaseOf(d) === 2)).toBe(true);
    expect(one.every((d) => d.task.startsWith('1.') && phaseOf(d) === 1)).toBe(true);
    expect([...ids(one), ...ids(two)]).toEqual(ids(deliverables));
    expect(ids(selectDeliverables('phase 2'))).toEqual(ids(two));
  });

  it('a mixed list is their union, once each, in the catalogue order', () => {
    const picked = selectDeliverables(' 2.4-order-written, 1.1 ,1.4,2.4-order-written');
    expect(ids(picked)).toEqual(['1.1-netns-list', '1.4-external-client', '1.4-nat-rules', '1.4-traffic-flow', '2.4-order-written']);
    expect(ids(selectDeliverables('phase1,1.2'))).toEqual(ids(selectDeliverables('phase1')));
  });

  it('nothing asked for is everything', () => {
    expect(selectDeliverables(undefined)).toEqual(deliverables);
    expect(selectDeliverables(' ')).toEqual(deliverables);
  });

  it('an entry that selects nothing is refused, naming the tasks there are', () => {
    expect(() => selectDeliverables('1.5')).toThrow(/--only 1\.5: no such task, phase or deliverable \(tasks: 1\.1, 1\.2, 1\.3, 1\.4, 2\.1, 2\.2, 2\.3, 2\.4; phases: phase1, phase2/);
    expect(() => selectDeliverables('1.2,phase3')).toThrow(/--only phase3:/);
    expect(() => selectDeliverables('1.2-Bridge')).toThrow(/--only 1\.2-Bridge:/);
  });
});

// ---- runChecks ------------------------------------------------------------------------------

const model = JSON.parse(readFileSync(new URL('../../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;
/** A Lab without an outside: the fake checks below read nothing of it but `shared`. */
const lab = (): Lab => ({
  model,
  judgement: judgeRules(model),
  noVantage: 'none in this test',
  pg: pgLogin(model, ''),
  redis: redisLogin(model, ''),
  iptables: { save: 'true', list: 'true' },
  shared: new Map(),
});

const fake = (id: string, run: Check['run'], more: Partial<Check> = {}): Check => ({ id, deliverable: `test-${id}`, title: `fake ${id}`, tools: [], run, ...more });

/** Records when each check starts and ends, and how many run at once (overall and per lock). */
function timeline() {
  const events: string[] = [];
  let active = 0;
  let most = 0;
  const timed =
    (id: string, ms: number): Check['run'] =>
    async () => {
      events.push(`${id} start`);
      most = Math.max(most, ++active);
      await sleep(ms);
      active--;
      events.push(`${id} end`);
    };
  return { events, timed, most: () => most };
}

describe('runChecks: side by side, in order where asked, one at a time per lock', () => {
  it('runs independent checks at once', async () => {
    const t = timeline();
    await runChecks(
      ['a', 'b', 'c'].map((id) => fake(id, t.timed(id, 30))),
      lab(),
    );
    expect(t.most()).toBe(3);
  });

  it('never more than the limit at once', async () => {
    const t = timeline();
    await runChecks(
      ['a', 'b', 'c', 'd', 'e'].map((id) => fake(id, t.timed(id, 20))),
      lab(),
      2,
    );
    expect(t.most()).toBe(2);
  });

  it('`after`: a check listed beside its dependency starts when that one ended, and others do not wait', async () => {
    const t = timeline();
    const shared = lab();
    const outcomes = await runChecks(
      [
        fake('write', async (x) => {
          await t.timed('write', 50)(x);
          x.lab.shared.set('order', 7);
        }),
        fake(
          'read',
          async (x) => {
            await t.timed('read', 1)(x);
            x.ok(x.lab.shared.get('order') === 7, 'read before the write');
          },
          { after: ['write'] },
        ),
        fake('other', t.timed('other', 1)),
      ],
      shared,
    );
    expect(t.events.indexOf('read start')).toBeGreaterThan(t.events.indexOf('write end'));
    expect(t.events.indexOf('other end')).toBeLessThan(t.events.indexOf('write end'));
    expect(outcomes.map((o) => [o.check.id, o.verdict])).toEqual([
      ['write', 'pass'],
      ['read', 'pass'],
      ['other', 'pass'],
    ]);
  });

  it('two checks with the same lock never overlap; checks of other locks still do', async () => {
    const perLock = new Map<string, { active: number; most: number }>();
    let overall = 0;
    let mostOverall = 0;
    const locked = (id: string, lock: string) =>
      fake(
        id,
        async () => {
          const l = perLock.get(lock) ?? { active: 0, most: 0 };
          perLock.set(lock, l);
          l.most = Math.max(l.most, ++l.active);
          mostOverall = Math.max(mostOverall, ++overall);
          await sleep(15);
          l.active--;
          overall--;
        },
        { lock },
      );
    await runChecks([locked('k1', 'keys'), locked('o1', 'other'), locked('k2', 'keys'), locked('o2', 'other'), locked('k3', 'keys')], lab());
    expect(perLock.get('keys')!.most).toBe(1);
    expect(perLock.get('other')!.most).toBe(1);
    expect(mostOverall).toBe(2);
  });

  it('a check ends pass when it returns, fail on Failed or any other error, inconclusive on Inconclusive', async () => {
    const outcomes = await runChecks(
      [
        fake('passes', async () => {}),
        fake('fails', async (t) => t.equal(1, 2, 'one')),
        fake('failed', async () => {
          throw new Failed('the seed wanted 201');
        }),
        fake('cannot', async () => {
          throw new Inconclusive('no privileges here');
        }),
        fake('crashes', async () => {
          throw new TypeError('x is undefined');
        }),
        fake('outside', async () => {}, { outside: true }),
      ],
      lab(),
    );
    const by = Object.fromEntries(outcomes.map((o) => [o.check.id, [o.verdict, o.reason]]));
    expect(by).toEqual({
      passes: ['pass', undefined],
      fails: ['fail', 'one: expected 2, got 1'],
      failed: ['fail', 'the seed wanted 201'],
      cannot: ['inconclusive', 'no privileges here'],
      crashes: ['fail', 'TypeError: x is undefined'],
      outside: ['inconclusive', 'no outside to test from: none in this test'],
    });
    for (const o of outcomes) expect(o.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a tool this host lacks makes the check inconclusive, naming it and its package, without running it', async () => {
    // A PATH that holds only sh: every other tool is missing, whatever this host has installed.
    const bin = mkdtempSync(join(tmpdir(), 'ecomnet-path-'));
    onTestFinished(() => rmSync(bin, { recursive: true, force: true }));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    vi.stubEnv('PATH', bin);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    let ran = false;
    const outcomes = await runChecks(
      [
        fake(
          'needs',
          async () => {
            ran = true;
          },
          { tools: ['redis-cli', 'ecomnet-no-such-tool-7f3a'] },
        ),
        fake('has', async () => {}, { tools: ['sh'] }),
      ],
      lab(),
    );
    expect(ran).toBe(false);
    expect(outcomes[0]).toMatchObject({ verdict: 'inconclusive', reason: 'the grader needs redis-cli (apt-get install redis-tools), ecomnet-no-such-tool-7f3a, which this host lacks' });
    expect(outcomes[1]!.verdict).toBe('pass');
  });
});

// ---- statuses and exit codes ----------------------------------------------------------------

const outcome = (deliverable: string, verdict: OutcomeData['verdict'], reason?: string): OutcomeData => ({
  id: `${deliverable}/${verdict}`,
  deliverable,
  title: deliverable,
  verdict,
  ...(reason ? { reason } : {}),
  evidence: [],
  startedAt: '2026-12-06T00:00:00.000Z',
  durationMs: 1,
});

describe('statusOf: a deliverable from its checks', () => {
  const d = deliverables.find((x) => x.id === '2.4-order-written')!;
  const selected = new Set([d.id]);

  it('not selected: not graded, whatever ran', () => {
    expect(statusOf(d, [outcome(d.id, 'fail', 'x')], new Set())).toMatchObject({ status: 'not graded', points: d.points, task: '2.4' });
  });

  it('a failure fails it, before anything inconclusive, with its reason', () => {
    const v = statusOf(d, [outcome(d.id, 'pass'), outcome(d.id, 'inconclusive', 'no psql'), outcome(d.id, 'fail', '500 from the gateway')], selected);
    expect(v).toMatchObject({ status: 'fail', reason: '500 from the gateway' });
  });

  it('nothing failed but one could not judge: inconclusive; no check at all: inconclusive too', () => {
    expect(statusOf(d, [outcome(d.id, 'pass'), outcome(d.id, 'inconclusive', 'no psql')], selected)).toMatchObject({ status: 'inconclusive', reason: 'no psql' });
    expect(statusOf(d, [outcome('1.1-netns-list', 'pass')], selected)).toMatchObject({ status: 'inconclusive', reason: 'no check judges it' });
  });

  it('every check passed: pass, with no reason', () => {
    const v = statusOf(d, [outcome(d.id, 'pass'), outcome(d.id, 'pass'), outcome('1.1-netns-list', 'fail', 'not mine')], selected);
    expect(v.status).toBe('pass');
    expect(v.reason).toBeUndefined();
  });
});

describe('exitCodeOf: what verify exits with', () => {
  const result = (verdict: GradeResult['verdict']): GradeResult => ({
    startedAt: '',
    durationMs: 0,
    host: { kernel: '', iptablesBackend: '', node: '', outside: 'probe' },
    deliverables: [],
    outcomes: [],
    diagnoses: [],
    deviations: [],
    advice: [],
    score: { points: 0, max: 0, graded: 0, of: 0 },
    errors: [],
    verdict,
  });

  it('0 pass, 1 a deliverable failed, 2 could not judge; usage errors have a code of their own', () => {
    expect([exitCodeOf(result('pass')), exitCodeOf(result('fail')), exitCodeOf(result('inconclusive'))]).toEqual([0, 1, 2]);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
    expect(EXIT.usage).not.toBe(0);
  });
});
