import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { readState } from '../../src/host/state.ts';
import { checksOf, judged } from '../support/graded.ts';
import { runDir } from '../support/platform.ts';

describe('1.1 network namespaces', () => {
  judged(checksOf('1.1-netns-list'));

  it('ecomnet recorded exactly its service and outside-world namespaces as its own', () => {
    const state = readState(runDir);
    expect(state?.phase).toBe('up');
    expect([...state!.namespaces].sort()).toEqual([...topology.app.nodes, ...topology.outside.nodes].map((n) => n.name).sort());
  });
});
