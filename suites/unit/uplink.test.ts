import { describe, expect, it } from 'vitest';
import { realUplink } from '../../src/grader/judge.ts';
import type { HostModel, Route } from '../../src/grader/model.ts';
import { uplinkOf } from '../../src/net/uplink.ts';

const lab = ['br-app', 'br-uplink'];

describe('the one uplink finder', () => {
  it('one default route: its device', () => {
    expect(
      uplinkOf(
        [
          { dst: '10.0.0.0/16', dev: 'br-app' },
          { dst: 'default', dev: 'eth0' },
        ],
        lab,
      ),
    ).toBe('eth0');
  });

  it('several: the lowest metric, as the kernel chooses; ties keep the listed order', () => {
    expect(
      uplinkOf([
        { dst: 'default', dev: 'wlan0', metric: 600 },
        { dst: 'default', dev: 'eth0', metric: 100 },
      ]),
    ).toBe('eth0');
    expect(
      uplinkOf([
        { dst: 'default', dev: 'eth0' },
        { dst: 'default', dev: 'eth1' },
      ]),
    ).toBe('eth0');
  });

  it('none: no uplink', () => {
    expect(uplinkOf([{ dst: '192.0.2.0/24', dev: 'eth0' }])).toBeUndefined();
    expect(uplinkOf([])).toBeUndefined();
  });

  it("a default route by a lab bridge leads back into the lab: passed over for the host's own", () => {
    expect(
      uplinkOf(
        [
          { dst: 'default', dev: 'br-app' },
          { dst: 'default', dev: 'eth0', metric: 100 },
        ],
        lab,
      ),
    ).toBe('eth0');
    expect(uplinkOf([{ dst: 'default', dev: 'br-app' }], lab)).toBeUndefined();
  });

  it('an unreachable or blackhole default (no device) leads nowhere: passed over', () => {
    expect(uplinkOf([{ dst: 'default' }, { dst: 'default', dev: 'eth0' }])).toBe('eth0');
  });

  it("the grader's real uplink is the same finder over the model's routes, never the lab's bridge", () => {
    const model = (routes: Route[]): HostModel => ({
      at: '',
      host: { links: [{ name: 'br-app', kind: 'bridge', up: true, operstate: 'UP', addresses: [] }], routes, listeners: [] },
      namespaces: [],
      sysctl: {},
      iptables: { backend: 'nft', save: '' },
    });
    expect(
      realUplink(
        model([
          { dst: 'default', dev: 'br-app' },
          { dst: 'default', dev: 'eth0' },
        ]),
      ),
    ).toBe('eth0');
    expect(realUplink(model([{ dst: 'default' }, { dst: 'default', via: '192.0.2.1', dev: 'eth0' }]))).toBe('eth0');
  });
});
