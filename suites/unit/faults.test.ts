import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { describeFault, faultPlan, heldServices, parseFault, validateFaults } from '../../src/runtime/faults.ts';
import { topology as alt } from '../../fixtures/alt-topology.ts';

/** Issue 12: `ecomnet fault` injects on our namespaces only, and every fault has its exact undoing. */

const shown = (argvs: string[][]) => argvs.map((a) => a.join(' '));

describe('faultPlan', () => {
  it("link-down takes the host side of the namespace's veth down, and clear brings it up", () => {
    const p = faultPlan({ kind: 'link-down', ns: 'product-service' }, topology);
    expect(shown(p.apply)).toEqual(['ip link set veth-product-br down']);
    expect(shown(p.clear)).toEqual(['ip link set veth-product-br up']);
  });

  it('loss is a statistic DROP in a chain of ours inside the namespace, on its veth both ways; clear deletes jumps and chain', () => {
    const p = faultPlan({ kind: 'loss', ns: 'product-service', percent: 5 }, topology, 'iptables-legacy');
    const ipt = 'ip netns exec product-service iptables-legacy -w';
    expect(shown(p.apply)).toEqual([
      `${ipt} -N ECOMNET-FAULT`,
      `${ipt} -A ECOMNET-FAULT -m statistic --mode random --probability 0.05 -m comment --comment ecomnet:fault-loss -j DROP`,
      `${ipt} -I INPUT -i veth-product -j ECOMNET-FAULT`,
      `${ipt} -I OUTPUT -o veth-product -j ECOMNET-FAULT`,
    ]);
    expect(shown(p.clear)).toEqual([`${ipt} -D INPUT -i veth-product -j ECOMNET-FAULT`, `${ipt} -D OUTPUT -o veth-product -j ECOMNET-FAULT`, `${ipt} -F ECOMNET-FAULT`, `${ipt} -X ECOMNET-FAULT`]);
    expect(faultPlan({ kind: 'loss', ns: alt.app.nodes[0]!.name, percent: 5 }, alt).apply[0]).toContain(`${alt.tag.toUpperCase()}-FAULT`);
  });

  it('delay is netem on the veth inside the namespace', () => {
    const p = faultPlan({ kind: 'delay', ns: 'product-service', ms: 200 }, topology);
    expect(shown(p.apply)).toEqual(['ip netns exec product-service tc qdisc add dev veth-product root netem delay 200ms']);
    expect(shown(p.clear)).toEqual(['ip netns exec product-service tc qdisc del dev veth-product root']);
  });
});

describe('parseFault', () => {
  it('takes a service by name or by namespace for kill, a namespace for the link faults, with defaults', () => {
    expect(parseFault('kill', 'redis', {}, topology)).toEqual({ kind: 'kill', service: 'redis' });
    expect(parseFault('kill', 'api-gateway', {}, topology)).toEqual({ kind: 'kill', service: 'gateway' });
    expect(parseFault('loss', 'product-service', {}, topology)).toEqual({ kind: 'loss', ns: 'product-service', percent: 5 });
    expect(parseFault('delay', 'product-service', { ms: '50' }, topology)).toEqual({ kind: 'delay', ns: 'product-service', ms: 50 });
  });

  it('--hold goes with a kill, by service or namespace name', () => {
    expect(parseFault('kill', 'product', { hold: true }, topology)).toEqual({ kind: 'kill', service: 'product', hold: true });
    expect(parseFault('kill', 'postgres-db', { hold: true }, topology)).toEqual({ kind: 'kill', service: 'postgres', hold: true });
    expect(() => parseFault('link-down', 'product-service', { hold: true }, topology)).toThrow(/--hold .* kill only, not link-down/);
  });

  it.each([
    ['explode', 'redis', {}, /unknown fault explode/],
    ['kill', undefined, {}, /needs a target/],
    ['kill', 'sshd', {}, /sshd is not a service/],
    ['kill', 'ext-client', {}, /not a service/],
    ['link-down', 'eth0', {}, /eth0 is not a namespace of the platform/],
    ['link-down', 'internet-host', {}, /not a namespace of the platform/],
    ['loss', 'product-service', { percent: '0' }, /--percent/],
    ['loss', 'product-service', { percent: 'x' }, /--percent/],
    ['delay', 'product-service', { ms: '1.5' }, /--ms/],
  ])('refuses %s %s %o', (kind, target, amount, message) => {
    expect(() => parseFault(kind, target, amount, topology)).toThrow(message);
  });
});

describe('validateFaults: the record is checked before root undoes what it names', () => {
  it('accepts what ecomnet records, nothing is an empty list', () => {
    const ok = [
      { kind: 'link-down', ns: 'api-gateway' },
      { kind: 'loss', ns: 'product-service', percent: 5 },
      { kind: 'delay', ns: 'order-service', ms: 200 },
      ...['nginx', 'gateway', 'product', 'order', 'redis', 'postgres'].map((service) => ({ kind: 'hold', service })),
    ];
    expect(validateFaults(ok, topology)).toEqual(ok);
    expect(heldServices(validateFaults(ok, topology))).toEqual(['nginx', 'gateway', 'product', 'order', 'redis', 'postgres']);
    expect(validateFaults(undefined, topology)).toEqual([]);
  });

  it.each([
    [{ kind: 'link-down', ns: 'eth0' }],
    [{ kind: 'link-down', ns: 'api-gateway; reboot' }],
    [{ kind: 'loss', ns: 'product-service', percent: 500 }],
    [{ kind: 'delay', ns: 'product-service', ms: '200ms; reboot' }],
    [{ kind: 'flood', ns: 'product-service' }],
    [{ kind: 'hold', service: 'sshd' }],
    [{ kind: 'hold', service: 'internet' }],
    [{ kind: 'hold', service: 'client' }],
    [{ kind: 'hold', ns: 'product-service' }],
    [{ kind: 'hold', service: 'product', ns: 'product-service' }],
  ])('refuses %o', (f) => {
    expect(() => validateFaults([f], topology)).toThrow(/no fault ecomnet injects/);
  });

  it('refuses a record that is not a list, and one of another topology', () => {
    expect(() => validateFaults({ kind: 'link-down' }, topology)).toThrow(/not a list/);
    expect(() => validateFaults([{ kind: 'link-down', ns: 'api-gateway' }], alt)).toThrow(/no fault/);
    // The small platform runs no services: nothing of it can be held.
    expect(() => validateFaults([{ kind: 'hold', service: 'product' }], alt)).toThrow(/no fault/);
  });
});

describe('describeFault: what `fault list` and `fault clear` say', () => {
  it('names a hold as the command that made it', () => {
    expect(describeFault({ kind: 'hold', service: 'product' })).toBe('kill --hold product');
    expect(describeFault({ kind: 'loss', ns: 'product-service', percent: 5 })).toBe('loss product-service 5%');
  });
});
