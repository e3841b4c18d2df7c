/**
 * Interface names verify reads from the host reach a root shell in its checks' command lines
 * (issue 21, finding 9). Linux allows nearly any byte in a name of at most 15 characters (not
 * '/', ':' or whitespace), so a name is a word to quote, never shell text. The checks here run
 * for real, as root, on a model whose names carry a command: they only read (`ip ... show`).
 */
import { describe, expect, it } from 'vitest';
import { bridge, namespaces } from '../../src/grader/contract.ts';
import { networkChecks } from '../../src/grader/checks/network.ts';
import { Failed, type Lab, Trial } from '../../src/grader/checks/trial.ts';
import type { HostModel, Link, Namespace } from '../../src/grader/model.ts';
import { MAX_IFNAME } from '../../src/topology/validate.ts';

/** Each prints a marker when a shell runs it as a command rather than passing it as a name. */
const BRIDGE = `b;echo\${IFS}IJ`;
const inside = (i: number) => `v;echo\${IFS}I${i}`;
const injected = /^I(J|\d)$/m;

function lab(): Lab {
  const ns = (n: (typeof namespaces)[number], i: number): Namespace => ({
    name: n.name,
    links: [{ name: inside(i), kind: 'veth', up: true, operstate: 'UP', addresses: [{ ip: n.ip, prefix: 16 }], peer: { name: `p${i}` } }],
    routes: [{ dst: 'default', via: bridge.ip, dev: inside(i) }],
    listeners: [],
    processes: [],
  });
  const model: HostModel = {
    at: new Date().toISOString(),
    host: {
      links: [
        { name: BRIDGE, kind: 'bridge', up: true, operstate: 'UP', addresses: [{ ip: bridge.ip, prefix: 16 }] },
        ...namespaces.map((n, i): Link => ({ name: `p${i}`, kind: 'veth', up: true, operstate: 'UP', master: BRIDGE, addresses: [], peer: { namespace: n.name, name: inside(i) } })),
      ],
      routes: [],
      listeners: [],
    },
    namespaces: namespaces.map(ns),
    sysctl: {},
    iptables: { backend: 'nft', save: '' },
  };
  const login = { host: bridge.ip, port: 0, user: 'nobody' };
  return { model, judgement: undefined as never, pg: login, redis: login, iptables: { save: 'iptables-save', list: 'iptables' }, shared: new Map() };
}

describe("interface names from the host are words in verify's root shells, never commands", () => {
  it('the names are ones Linux allows', () => {
    for (const name of [BRIDGE, ...namespaces.map((_, i) => inside(i))]) {
      expect(name.length).toBeLessThanOrEqual(MAX_IFNAME);
      expect(name).not.toMatch(/[/:\s]/);
    }
  });

  it('1.2-bridge and 1.2-veth on a bridge and veths whose names hold `;echo`: nothing runs, each check fails on the names it cannot find', async () => {
    const checks = networkChecks.filter((c) => c.id === '1.2-bridge' || c.id.startsWith('1.2-veth/'));
    expect(checks.length).toBe(1 + namespaces.length);
    const trials = await Promise.all(
      checks.map(async (c) => {
        const t = new Trial(lab());
        const outcome = await c.run(t).then(
          () => 'pass',
          (e: unknown) => (e instanceof Failed ? 'fail' : `error: ${(e as Error).message}`),
        );
        return { id: c.id, outcome, t };
      }),
    );
    const ran = trials.flatMap(({ id, t }) => t.evidence.filter((e) => injected.test(e.stdout)).map((e) => `${id}: \`${e.command}\` printed ${e.stdout.trim()}`));
    expect(ran).toEqual([]);
    expect(trials.map((x) => [x.id, x.outcome])).toEqual(checks.map((c) => [c.id, 'fail']));
    // The names reached the commands, quoted, as words.
    expect(trials[0]!.t.evidence[0]!.command).toContain(`'${BRIDGE}'`);
  });
});
