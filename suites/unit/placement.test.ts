import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../src/topology/default.ts';
import { corePlacement, parseCpuList } from '../../src/runtime/placement.ts';
import type { Component } from '../../src/topology/types.ts';

const cpuOf = (placed: Map<string, number>, c: Component) => placed.get(nodeOf(c).name);

describe('CPU placement of the request path', () => {
  it('two CPUs: the hops alternate from the port forward on, so consecutive ones never share a CPU', () => {
    const placed = corePlacement(topology, [0, 1]);
    expect(['nginx', 'gateway', 'product', 'redis'].map((c) => cpuOf(placed, c as Component))).toEqual([0, 1, 0, 1]);
    expect(['gateway', 'order', 'postgres'].map((c) => cpuOf(placed, c as Component))).toEqual([1, 0, 1]);
  });

  it('four CPUs (any numbers the process may use): each hop of a path on a CPU of its own', () => {
    const placed = corePlacement(topology, [2, 3, 5, 7]);
    expect(['nginx', 'gateway', 'product', 'redis'].map((c) => cpuOf(placed, c as Component))).toEqual([2, 3, 5, 7]);
    expect(cpuOf(placed, 'order')).toBe(5);
  });

  it('what is off the path, one CPU, or a topology without flows is left to the scheduler', () => {
    expect(cpuOf(corePlacement(topology, [0, 1]), 'internet')).toBeUndefined();
    expect(corePlacement(topology, [0]).size).toBe(0);
    expect(corePlacement({ ...topology, flows: undefined }, [0, 1]).size).toBe(0);
  });

  it("reads the kernel's CPU lists", () => {
    expect(parseCpuList('0-3,6,8-9\n')).toEqual([0, 1, 2, 3, 6, 8, 9]);
    expect(parseCpuList('1')).toEqual([1]);
  });
});
