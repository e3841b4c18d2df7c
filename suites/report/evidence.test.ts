import { describe, expect, it } from 'vitest';
import { backendOf } from '../../src/host/iptables.ts';
import { deliverable } from '../support/evidence.ts';

describe('deliverable()', () => {
  it('rejects an id that is not a seed deliverable, before tagging anything', ({ task }) => {
    expect(() => deliverable('1.1-netns-lst')).toThrow(/unknown deliverable id "1.1-netns-lst"/);
    expect(task.meta.deliverables).toBeUndefined();
  });
});

describe('backendOf', () => {
  it('reads the backend from `iptables --version`', () => {
    expect(backendOf('iptables v1.8.9 (nf_tables)')).toBe('nf_tables');
    expect(backendOf('iptables v1.8.7 (legacy)')).toBe('legacy');
    expect(backendOf('unavailable')).toBe('unknown');
  });
});
