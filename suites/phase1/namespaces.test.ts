import { describe, expect, it } from 'vitest';
import { topology } from '../../fixtures/topology.ts';
import { namespaces } from '../../src/grader/contract.ts';
import { readState } from '../../src/host/state.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { ecomnetExtras } from '../support/live.ts';
import { runDir } from '../support/platform.ts';

describe('1.1 network namespaces', () => {
  it(`ip netns list shows the seed's ${namespaces.length} service namespaces`, async () => {
    deliverable('1.1-netns-list');
    const r = await recordedShell('ip netns list');
    expect(r.exitCode).toBe(0);
    const listed = r.stdout
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter(Boolean);
    expect(listed).toEqual(expect.arrayContaining(namespaces.map((n) => n.name)));
  });

  it.runIf(ecomnetExtras('1.1 state'))('ecomnet recorded exactly its service and outside-world namespaces as its own', () => {
    const state = readState(runDir);
    expect(state?.phase).toBe('up');
    expect([...state!.namespaces].sort()).toEqual([...topology.app.nodes, ...topology.outside.nodes].map((n) => n.name).sort());
  });
});
