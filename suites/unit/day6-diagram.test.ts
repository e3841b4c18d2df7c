/** The two hosts drawn as discovered: each host's VXLAN, bridge and namespaces, red where day 6's contract is not met. */
import { describe, expect, it } from 'vitest';
import { day6DiagramSvg } from '../../src/grader/day6/diagram.ts';
import type { HostState } from '../../src/grader/day6/discover.ts';

const host = (name: string, underlay: string, remote: string, bridge: string, ns: [string, string, number][], vx: Partial<HostState['vxlans'][number]> = {}): HostState => ({
  name,
  vxlans: [{ name: 'vxlan100', vni: 100, port: 4789, remote, dev: 'eth0', master: 'br-app', mtu: 1450, up: true, ...vx }],
  underlay: [underlay],
  rootAddresses: [
    { ifname: 'eth0', address: underlay },
    { ifname: 'br-app', address: bridge },
  ],
  namespaces: ns.map(([n, ip, m]) => ({ name: n, links: [{ ifname: `veth-${n}`, mtu: m, addresses: [ip] }], listening: [] })),
  udpDrops: [],
  evidence: [],
});

const a = host('host-a', '198.51.100.1', '198.51.100.2', '10.0.0.1', [
  ['nginx-lb', '10.0.0.10', 1450],
  ['api-gateway', '10.0.0.20', 1450],
]);
const b = host('host-b', '198.51.100.2', '198.51.100.1', '10.0.0.2', [['redis-cache', '10.0.0.50', 1450]]);
const faults = (svg: string) => [...svg.matchAll(/✗ ([^<]+)/g)].map((m) => m[1]);

describe('the day-6 diagram, discovered from both hosts', () => {
  it('draws each host with its underlay address, VXLAN, bridge and namespaces, and no fault when the contract is met', () => {
    const svg = day6DiagramSvg(a, b);
    for (const s of ['host-a', 'host-b', 'eth0 198.51.100.1', 'eth0 198.51.100.2', 'VNI 100 · UDP 4789 · remote 198.51.100.2', 'br-app 10.0.0.2', 'redis-cache', '10.0.0.50']) expect(svg).toContain(s);
    expect(faults(svg)).toEqual([]);
    expect(svg).not.toContain('class="overlay fault"');
  });

  it('marks in red what differs: a VNI, a port left at the default, a VXLAN not enslaved, a wrong remote, a namespace at MTU 1500', () => {
    const cases: [HostState, string][] = [
      [{ ...b, vxlans: [{ ...b.vxlans[0]!, vni: 200 }] }, 'VNI 200, not 100'],
      [{ ...b, vxlans: [{ ...b.vxlans[0]!, port: undefined }] }, 'UDP 8472, not 4789'],
      [{ ...b, vxlans: [{ ...b.vxlans[0]!, master: undefined }] }, 'not enslaved to br-app'],
      [{ ...b, vxlans: [{ ...b.vxlans[0]!, remote: '198.51.100.3' }] }, 'remote 198.51.100.3 is not host-a'],
      [host('host-b', '198.51.100.2', '198.51.100.1', '10.0.0.2', [['redis-cache', '10.0.0.50', 1500]]), 'MTU 1500, over 1450'],
    ];
    for (const [broken, fault] of cases) expect(faults(day6DiagramSvg(a, broken)), fault).toEqual([fault]);
    expect(day6DiagramSvg(a, cases[0]![0])).toContain('class="overlay fault"');
  });
});
