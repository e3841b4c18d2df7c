/** The day-6 grader's readers: VXLAN datagrams from tcpdump's bytes, and iptables rules that drop the overlay's UDP. */
import { describe, expect, it } from 'vitest';
import { parseCapture } from '../../src/grader/day6/checks.ts';
import { dropsUdpTo } from '../../src/grader/day6/discover.ts';

/** tcpdump -nn -x of one datagram: IPv4 (20 bytes), UDP to `dport`, a VXLAN header with `vni`, as it prints them. */
function dump(src: number[], dst: number[], dport: number, vni: number, flags = 0x08): string {
  const bytes = [0x45, 0, 0, 0x4e, 0, 0, 0x40, 0, 0x40, 17, 0, 0, ...src, ...dst, 0xb1, 0x2c, dport >> 8, dport & 0xff, 0, 0x3a, 0, 0, flags, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0];
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const words = [];
    for (let j = i; j < Math.min(i + 16, bytes.length); j += 2)
      words.push(
        bytes
          .slice(j, j + 2)
          .map((b) => b.toString(16).padStart(2, '0'))
          .join(''),
      );
    lines.push(`\t0x${i.toString(16).padStart(4, '0')}:  ${words.join(' ')}`);
  }
  return `17:06:01.000000 IP ${src.join('.')}.45356 > ${dst.join('.')}.${dport}: VXLAN, flags [I] (0x08), vni ${vni}\n${lines.join('\n')}\n`;
}

describe('day 6: reading the underlay', () => {
  it('takes the UDP port and the VNI from the bytes, not from what tcpdump says of them', () => {
    const out = dump([192, 0, 2, 1], [192, 0, 2, 2], 4789, 100) + dump([192, 0, 2, 2], [192, 0, 2, 1], 8472, 200).replace('vni 200', 'vni 100') + dump([192, 0, 2, 1], [192, 0, 2, 2], 4789, 100, 0);
    expect(parseCapture(out)).toEqual([
      { src: '192.0.2.1', dst: '192.0.2.2', dport: 4789, vniValid: true, vni: 100 },
      { src: '192.0.2.2', dst: '192.0.2.1', dport: 8472, vniValid: true, vni: 200 },
      { src: '192.0.2.1', dst: '192.0.2.2', dport: 4789, vniValid: false, vni: 100 },
    ]);
  });

  it("finds the rules that drop or reject the overlay's UDP, and only those", () => {
    const ports = [4789, 8472];
    expect(dropsUdpTo('-A INPUT -p udp -m udp --dport 4789 -j DROP', ports)).toBe(true);
    expect(dropsUdpTo('-A FORWARD -p udp -m multiport --dports 53,4000:5000 -j REJECT --reject-with icmp-port-unreachable', ports)).toBe(true);
    expect(dropsUdpTo('-A OUTPUT -p udp -j DROP', ports)).toBe(true);
    expect(dropsUdpTo('-A INPUT -p udp -m udp --dport 53 -j DROP', ports)).toBe(false);
    expect(dropsUdpTo('-A INPUT -p tcp -m tcp --dport 4789 -j DROP', ports)).toBe(false);
    expect(dropsUdpTo('-A INPUT -p udp -m udp --dport 4789 -j ACCEPT', ports)).toBe(false);
    expect(dropsUdpTo(':INPUT DROP [0:0]', ports)).toBe(false);
  });
});
