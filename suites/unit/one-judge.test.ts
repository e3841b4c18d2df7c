import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { networkChecks } from '../../src/grader/checks/network.ts';
import type { Lab } from '../../src/grader/checks/trial.ts';
import { deviations, diagnose } from '../../src/grader/diagnose.ts';
import { diagramFindings, liveDiagramSvg } from '../../src/grader/live-diagram.ts';
import { runChecks } from '../../src/grader/grade.ts';
import { type Judgement, judgeRules, ruleFailures } from '../../src/grader/judge.ts';
import { pgLogin, redisLogin } from '../../src/grader/logins.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { probeVantage } from '../../src/grader/vantage.ts';
import { RED } from '../../src/util/svg-kit.ts';
import { esc } from '../../src/util/text.ts';

/**
 * One judge, three consumers: the 1.4 check's verdict, the live diagram's rule boxes and the
 * diagnosis's rule findings must say the same of every rule set. Each rule set is the fixture host
 * (ecomnet's platform as discovered) with its iptables-save replaced, judged from verify's probe
 * as `ecomnet verify` judges a real host.
 */

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;

function hostWith(save: string): HostModel {
  const m = structuredClone(fixture);
  m.iptables.save = save;
  return m;
}

const SEED_NAT = ['-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80', '-A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE'];
const SEED_FORWARD = '-A FORWARD -d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT';
/** What a learner adds so the lab's own traffic crosses a FORWARD that drops: the bridge's, egress and replies. */
const LAB_ACCEPTS = (chain: string) => [`-A ${chain} -i br-app -j ACCEPT`, `-A ${chain} -o br-app -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`];

/** An iptables-save of the nat and filter tables; `chains` are user chains (`nat LAB`, `filter LAB`). */
function dump(o: { nat?: string[]; policy: 'ACCEPT' | 'DROP'; filter?: string[]; chains?: string[] }): string {
  const own = (table: string) => (o.chains ?? []).filter((c) => c.startsWith(`${table} `)).map((c) => `:${c.split(' ')[1]} - [0:0]`);
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...own('nat'),
    ...(o.nat ?? SEED_NAT),
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    `:FORWARD ${o.policy} [0:0]`,
    ':OUTPUT ACCEPT [0:0]',
    ...own('filter'),
    ...(o.filter ?? []),
    'COMMIT',
    '',
  ].join('\n');
}

/** The seed's rules with the lab's accepts under DROP, as iptables-nft prints them. */
const NFT = dump({ policy: 'DROP', filter: [SEED_FORWARD, ...LAB_ACCEPTS('FORWARD')] });
/** The same rules as an old legacy iptables prints them: dotted mask, `-o !`, numeric protocol, long options, no -m tcp, the state match. */
const LEGACY = dump({
  nat: ['-A PREROUTING --protocol 6 --dport 8080 --jump DNAT --to-destination 10.0.0.10:80', '-A POSTROUTING -s 10.0.0.0/255.255.0.0 -o ! br-app -j MASQUERADE'],
  policy: 'DROP',
  filter: ['-A FORWARD -d 10.0.0.10 -p 6 --dport 80 -j ACCEPT', '-A FORWARD --in-interface br-app -j ACCEPT', '-A FORWARD -o br-app -m state --state RELATED,ESTABLISHED -j ACCEPT'],
});

/** A Docker host: its chains and DROP policy, the learner's accepts in DOCKER-USER (Docker rewrites FORWARD). */
const DOCKER = dump({
  nat: ['-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', '-A DOCKER -i docker0 -j RETURN', ...SEED_NAT],
  policy: 'DROP',
  chains: ['nat DOCKER', 'filter DOCKER', 'filter DOCKER-ISOLATION-STAGE-1', 'filter DOCKER-ISOLATION-STAGE-2', 'filter DOCKER-USER'],
  filter: [
    '-A FORWARD -j DOCKER-USER',
    '-A FORWARD -j DOCKER-ISOLATION-STAGE-1',
    '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -o docker0 -j DOCKER',
    '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
    '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
    '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
    '-A DOCKER-ISOLATION-STAGE-1 -j RETURN',
    '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
    '-A DOCKER-ISOLATION-STAGE-2 -j RETURN',
    SEED_FORWARD.replace('-A FORWARD', '-A DOCKER-USER'),
    ...LAB_ACCEPTS('DOCKER-USER'),
    '-A DOCKER-USER -j RETURN',
  ],
});

/** Every rule in a user chain of its own, entered from the built-in chain by `how` (-j returns, -g does not). */
const inUserChains = (how: '-j' | '-g') =>
  dump({
    nat: [
      `-A PREROUTING ${how} LAB-PRE`,
      `-A POSTROUTING ${how} LAB-POST`,
      '-A LAB-PRE -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80',
      '-A LAB-POST -s 10.0.0.0/16 ! -o br-app -j MASQUERADE',
    ],
    policy: 'DROP',
    chains: ['nat LAB-PRE', 'nat LAB-POST', 'filter LAB-FWD'],
    filter: [`-A FORWARD ${how} LAB-FWD`, SEED_FORWARD.replace('-A FORWARD', '-A LAB-FWD'), ...LAB_ACCEPTS('LAB-FWD')],
  });

interface Case {
  name: string;
  save: string;
  verdict: 'pass' | 'fail';
  /** The judge's faults, in its order. */
  faults: string[];
  /** Every deviation the diagnosis names (the fixture's network is the seed's, so only the rules'). */
  deviations: string[];
}

const cases: Case[] = [
  { name: "FORWARD policy ACCEPT without the seed's FORWARD rule", save: dump({ policy: 'ACCEPT' }), verdict: 'pass', faults: [], deviations: ['forward-by-policy'] },
  { name: "the seed's FORWARD rule under policy DROP, with the lab's accepts", save: NFT, verdict: 'pass', faults: [], deviations: [] },
  {
    name: "the seed's FORWARD rule alone under policy DROP: replies, the bridge's hops and egress are dropped",
    save: dump({ policy: 'DROP', filter: [SEED_FORWARD] }),
    verdict: 'fail',
    faults: ['forward-drops-bridged', 'forward-drops-dnat', 'forward-drops-egress'],
    deviations: [],
  },
  { name: "Docker's chains and DROP, the accepts in DOCKER-USER", save: DOCKER, verdict: 'pass', faults: [], deviations: [] },
  { name: 'an old legacy spelling of the same rules', save: LEGACY, verdict: 'pass', faults: [], deviations: [] },
  { name: 'every rule in a user chain entered by -j', save: inUserChains('-j'), verdict: 'pass', faults: [], deviations: [] },
  { name: 'every rule in a user chain entered by -g', save: inUserChains('-g'), verdict: 'pass', faults: [], deviations: [] },
  {
    name: 'a missing MASQUERADE',
    save: NFT.replace(/^-A POSTROUTING.*\n/m, ''),
    verdict: 'fail',
    faults: ['masquerade-missing'],
    deviations: [],
  },
  {
    name: 'a DNAT to the wrong port',
    save: NFT.replace('--to-destination 10.0.0.10:80', '--to-destination 10.0.0.10:8080'),
    verdict: 'fail',
    faults: ['dnat-wrong-port'],
    deviations: [],
  },
  {
    name: 'FORWARD dropping the DNATed request ahead of every accept',
    save: NFT.replace(SEED_FORWARD, `${SEED_FORWARD.replace('-j ACCEPT', '-j DROP')}\n${SEED_FORWARD}`),
    verdict: 'fail',
    faults: ['forward-drops-dnat'],
    deviations: [],
  },
  {
    name: 'a MASQUERADE naming only the real uplink (-o eth0)',
    save: NFT.replace('! -o br-app -j MASQUERADE', '-o eth0 -j MASQUERADE'),
    verdict: 'pass',
    faults: [],
    deviations: ['masquerade-names-uplink'],
  },
];

const natCheck = networkChecks.find((c) => c.id === '1.4-nat-rules')!;

/**
 * The Lab `ecomnet verify` builds, from the model, except the iptables commands: the check's own
 * screenshot command (`iptables -t nat -L -v -n`) becomes `true -t nat -L -v -n`, so the check runs
 * as written without reading this host's rules; its verdict comes from the judgement alone.
 */
const labOf = (model: HostModel, judgement: Judgement): Lab => ({
  model,
  judgement,
  vantage: probeVantage,
  pg: pgLogin(model, ''),
  redis: redisLogin(model, ''),
  iptables: { save: 'true', list: 'true' },
  shared: new Map(),
});

describe('one judge: the 1.4 check, the live diagram and the diagnosis agree on the rules', () => {
  it('the fixture itself: every rule holds, nothing red, nothing to diagnose', async () => {
    const j = judgeRules(fixture, probeVantage);
    expect(ruleFailures(j)).toEqual([]);
    const [outcome] = await runChecks([natCheck], labOf(fixture, j));
    expect(outcome!.verdict).toBe('pass');
    expect(liveDiagramSvg(fixture, j).split(RED)).toHaveLength(2);
    expect(diagnose(fixture, j)).toEqual([]);
  });

  it.each(cases)('$name: $verdict', async (c) => {
    const m = hostWith(c.save);
    const j = judgeRules(m, probeVantage);
    expect(j.unreadable).toBeUndefined();
    const failed = ruleFailures(j);
    const [outcome] = await runChecks([natCheck], labOf(m, j));
    const svg = liveDiagramSvg(m, j);
    const findings = diagnose(m, j);

    // The verdict the case expects, from each consumer.
    expect(failed.length > 0, failed.join('\n')).toBe(c.verdict === 'fail');
    expect(outcome!.verdict, outcome!.reason).toBe(c.verdict);
    expect(outcome!.evidence.map((e) => e.command)).toEqual([expect.stringContaining('-t nat -L -v -n')]);
    if (c.verdict === 'fail') expect(outcome!.reason).toBe(failed.join('\n'));

    // The diagram: a rule box says "✗ not found" exactly for the rules that do not hold, and lists each.
    expect(svg.includes('✗ not found')).toBe(failed.length > 0);
    for (const r of Object.values(j.rules)) {
      expect(svg.includes(esc(`✗ ${r.wanted}: not found`)), r.id).toBe(!r.holds);
      expect(
        failed.some((f) => r.judged.some((x) => !x.holds && f.includes(x.probe.what))),
        r.id,
      ).toBe(!r.holds);
    }
    if (c.verdict === 'pass') expect(svg.split(RED), 'only the legend is red').toHaveLength(2);
    // The rules are 1.4's: never the diagram deliverable's (task 1.2's network).
    expect(diagramFindings(m, j)).toEqual([]);

    // The diagnosis: a finding takes 1.4-nat-rules down exactly when a rule fails, and only the rules' do.
    const forRules = findings.filter((f) => f.deliverables.includes('1.4-nat-rules'));
    expect(forRules.length > 0).toBe(failed.length > 0);
    expect(findings.map((f) => f.id)).toEqual(c.faults);
    expect(j.faults.map((f) => f.id)).toEqual(c.faults);
    expect(deviations(m, j).map((d) => d.id)).toEqual(c.deviations);
  });

  it('nft and legacy spellings of the same rules are judged alike, packet by packet', () => {
    const decisions = (save: string) =>
      Object.values(judgeRules(hostWith(save), probeVantage).rules).flatMap((r) => r.judged.map((x) => [r.id, x.probe.what, x.holds, x.decision.target, x.decision.path.join(' > ')]));
    expect(decisions(LEGACY)).toEqual(decisions(NFT));
  });

  it("a rule carried by FORWARD's ACCEPT policy is drawn as the policy's, the seed's rule as found", () => {
    const byPolicy = hostWith(dump({ policy: 'ACCEPT' }));
    const j = judgeRules(byPolicy, probeVantage);
    expect(j.rules.forward).toMatchObject({ holds: true, main: { decision: { target: 'ACCEPT', path: ['FORWARD'] } } });
    expect(j.rules.forward.main.decision.rule).toBeUndefined();
    expect(liveDiagramSvg(byPolicy, j)).toContain(esc("by FORWARD's ACCEPT policy"));
    const seeded = judgeRules(hostWith(NFT), probeVantage);
    expect(seeded.rules.forward.main.decision.rule?.line).toBe(SEED_FORWARD);
    expect(liveDiagramSvg(hostWith(NFT), seeded)).toContain('found in FORWARD');
  });

  it('rules in user chains are found where they are', () => {
    for (const how of ['-j', '-g'] as const) {
      const j = judgeRules(hostWith(inUserChains(how)), probeVantage);
      expect(Object.values(j.rules).map((r) => r.main.decision.path.join(' > '))).toEqual(['POSTROUTING > LAB-POST', 'PREROUTING > LAB-PRE', 'FORWARD > LAB-FWD']);
    }
  });
});
