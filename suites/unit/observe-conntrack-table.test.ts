import { describe, expect, it } from 'vitest';
import { ConntrackTable, parseConntrack } from '../../src/observe/conntrack.ts';

const line = (timeout: number, sport: number, packets: number) =>
  `ipv4     2 tcp      6 ${timeout} TIME_WAIT src=10.0.0.10 dst=10.0.0.20 sport=${sport} dport=3000 packets=${packets} bytes=${packets * 60} src=10.0.0.20 dst=10.0.0.10 sport=3000 dport=${sport} packets=5 bytes=900 [ASSURED] mark=0 zone=0 use=2`;
const udp = (timeout: number) =>
  `ipv4     2 udp      17 ${timeout} src=10.0.0.30 dst=10.0.0.1 sport=5353 dport=53 packets=1 bytes=60 [UNREPLIED] src=10.0.0.1 dst=10.0.0.30 sport=53 dport=5353 packets=0 bytes=0 mark=0 zone=0 use=2`;
const v6 = 'ipv6     10 tcp      6 10 CLOSE src=::1 dst=::1 sport=1 dport=2 src=::1 dst=::1 sport=2 dport=1 mark=0 zone=0 use=2';

describe('a conntrack table read again each sample', () => {
  it('gives what parseConntrack gives, every read, whether its lines are new, only older, changed or gone', () => {
    const table = new ConntrackTable();
    const reads = [
      [line(120, 40000, 7), line(119, 40001, 7), udp(29), v6],
      // A second later: timeouts down, one connection's counters grown, one gone, one new.
      [line(119, 40000, 7), line(118, 40001, 9), line(120, 40002, 3), udp(28), v6],
      ['', line(117, 40001, 9)],
    ];
    for (const read of reads) expect(table.parse(read.join('\n'))).toEqual(parseConntrack(read.join('\n')));
  });

  it('hands back the previous entry for a line that only counted its timeout down, and a new one for changed counters', () => {
    const table = new ConntrackTable();
    const [a, b] = table.parse([line(120, 40000, 7), line(120, 40001, 7)].join('\n'));
    const [a2, b2] = table.parse([line(119, 40000, 7), line(119, 40001, 8)].join('\n'));
    expect(a2).toBe(a);
    expect(b2).not.toBe(b);
    expect(b2!.orig.packets).toBe(8);
  });

  it('finds its place again past entries gone or new since the last read (the kernel lists them in the same order)', () => {
    const table = new ConntrackTable();
    const first = table.parse([40000, 40001, 40002, 40003].map((p) => line(120, p, 7)).join('\n'));
    const second = table.parse([40001, 40009, 40003].map((p) => line(119, p, 7)).join('\n'));
    expect(second[0]).toBe(first[1]);
    expect(second[1]!.orig.sport).toBe(40009);
    expect(second[2]).toBe(first[3]);
  });
});
