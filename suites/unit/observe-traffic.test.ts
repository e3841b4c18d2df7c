import { describe, expect, it } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { grepByFile, parseConntrack, parseNetDev } from '../../src/observe/conntrack.ts';
import { declaredOf } from '../../src/observe/declared.ts';
import { History } from '../../src/observe/history.ts';
import { Accountant, Directory, MAX_EXTERNAL, MAX_PAIRS, OTHER_EXTERNAL, pairDelta, type Table } from '../../src/observe/traffic.ts';
import type { Endpoint, Snapshot } from '../../src/observe/types.ts';

const tcp = (state: string, o: string, r: string, acct = true) => {
  const [s, d, sp, dp, pk = '0', by = '0'] = o.split(' ');
  const [rs, rd, rsp, rdp, rpk = '0', rby = '0'] = r.split(' ');
  const counts = (p: string, b: string) => (acct ? ` packets=${p} bytes=${b}` : '');
  return `ipv4     2 tcp      6 117 ${state} src=${s} dst=${d} sport=${sp} dport=${dp}${counts(pk, by)} src=${rs} dst=${rd} sport=${rsp} dport=${rdp}${counts(rpk, rby)} [ASSURED] mark=0 zone=0 use=2`;
};

const endpoints: Endpoint[] = [
  { id: 'host', kind: 'host', ips: ['10.0.0.1', '203.0.113.129'], up: true },
  { id: 'nginx-lb', kind: 'namespace', ips: ['10.0.0.10'], up: true },
  { id: 'api-gateway', kind: 'namespace', ips: ['10.0.0.20'], up: true },
  { id: 'order-service', kind: 'namespace', ips: ['10.0.0.40'], up: true },
  { id: 'ext-client', kind: 'namespace', ips: ['203.0.113.130'], up: true },
];

describe('conntrack and /proc/net/dev, parsed', () => {
  it('reads both directions of a TCP entry with its state and counters, and ICMP and UDP ones', () => {
    const text = [
      tcp('ESTABLISHED', '10.0.0.10 10.0.0.20 40000 3000 12 900', '10.0.0.20 10.0.0.10 3000 40000 10 1800'),
      'ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.10 type=8 code=0 id=7 packets=1 bytes=84 src=10.0.0.10 dst=10.0.0.1 type=0 code=0 id=7 packets=1 bytes=84 mark=0 zone=0 use=2',
      'ipv4     2 udp      17 29 src=10.0.0.30 dst=10.0.0.1 sport=5353 dport=53 packets=1 bytes=60 [UNREPLIED] src=10.0.0.1 dst=10.0.0.30 sport=53 dport=5353 packets=0 bytes=0 mark=0 zone=0 use=2',
      'ipv6     10 tcp      6 10 CLOSE src=::1 dst=::1 sport=1 dport=2 src=::1 dst=::1 sport=2 dport=1 mark=0 zone=0 use=2',
    ].join('\n');
    const [t, icmp, udp, ...rest] = parseConntrack(text);
    expect(rest).toEqual([]);
    expect(t).toEqual({
      proto: 'tcp',
      state: 'ESTABLISHED',
      orig: { src: '10.0.0.10', dst: '10.0.0.20', sport: 40000, dport: 3000, packets: 12, bytes: 900 },
      reply: { src: '10.0.0.20', dst: '10.0.0.10', sport: 3000, dport: 40000, packets: 10, bytes: 1800 },
    });
    expect(icmp).toMatchObject({ proto: 'icmp', state: 'ICMP', orig: { packets: 1, bytes: 84, sport: 7, dport: 8 } });
    expect(udp).toMatchObject({ proto: 'udp', state: 'UDP', orig: { dport: 53, packets: 1 }, reply: { packets: 0 } });
  });

  it('reads interface counters and splits grep -H output by file', () => {
    const dev =
      'Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n veth-api: 4500 30 1 2 0 0 0 0 2100 20 3 4 0 0 0 0\n';
    expect(parseNetDev(dev)).toEqual([{ name: 'veth-api', rxBytes: 4500, rxPackets: 30, rxErrors: 1, rxDropped: 2, txBytes: 2100, txPackets: 20, txErrors: 3, txDropped: 4 }]);
    const files = grepByFile('/proc/9/net/dev:a:b\n/proc/9/net/dev:c\n/proc/net/nf_conntrack:x\n'.split('\n'));
    expect(files.get('/proc/9/net/dev')).toBe('a:b\nc');
    expect(files.get('/proc/net/nf_conntrack')).toBe('x');
  });
});

describe('traffic per pair', () => {
  const dir = new Directory(endpoints, [{ hostPort: 5432, container: 'ecomnet-postgres' }]);
  const sampleOf = (tables: Table[], acc: Accountant) => acc.account(tables, dir, 1);

  it('counts a connection once, at the namespace it reached, and only what it carried after the first sample', () => {
    const acc = new Accountant();
    const seen = (pk: string) => tcp('ESTABLISHED', `10.0.0.10 10.0.0.20 40000 3000 ${pk} 1000`, `10.0.0.20 10.0.0.10 3000 40000 ${pk} 2000`);
    // The sender's table and the receiver's both hold it.
    sampleOf(
      [
        { ns: 'nginx-lb', entries: parseConntrack(seen('5')) },
        { ns: 'api-gateway', entries: parseConntrack(seen('5')) },
      ],
      acc,
    );
    const { pairs, states, protocols } = sampleOf(
      [
        { ns: 'nginx-lb', entries: parseConntrack(seen('9')) },
        { ns: 'api-gateway', entries: parseConntrack(seen('9')) },
      ],
      acc,
    );
    expect(pairs).toHaveLength(1);
    expect(pairs[0]).toMatchObject({ from: 'nginx-lb', to: 'api-gateway', proto: 'tcp', port: 3000, live: 1, opened: 0, packetsOut: 4, packetsIn: 4, bytesOut: 0 });
    expect(states).toEqual({ ESTABLISHED: 1 });
    expect(protocols).toEqual([{ proto: 'tcp', live: 1, opened: 0, bytes: 0, rate: { bytes: 0 } }]);
  });

  it('counts a client reaching host port 8080 at nginx-lb (after DNAT), not also as traffic to the host', () => {
    const acc = new Accountant();
    sampleOf([], acc);
    const client = tcp('TIME_WAIT', '203.0.113.130 203.0.113.129 50000 8080 6 400', '203.0.113.129 203.0.113.130 8080 50000 5 900');
    const host = tcp('TIME_WAIT', '203.0.113.130 203.0.113.129 50000 8080 6 400', '10.0.0.10 203.0.113.130 80 50000 5 900');
    const nginx = tcp('TIME_WAIT', '203.0.113.130 10.0.0.10 50000 80 6 400', '10.0.0.10 203.0.113.130 80 50000 5 900');
    const { pairs } = sampleOf(
      [
        { ns: 'host', entries: parseConntrack(host) },
        { ns: 'ext-client', entries: parseConntrack(client) },
        { ns: 'nginx-lb', entries: parseConntrack(nginx) },
      ],
      acc,
    );
    expect(pairs.map((p) => [p.from, p.to, p.port, p.opened, p.packetsOut, p.bytesIn])).toEqual([['ext-client', 'nginx-lb', 80, 1, 6, 900]]);
  });

  it('names the container behind a port Docker publishes, from the sender (no namespace of ours receives it)', () => {
    const acc = new Accountant();
    sampleOf([], acc);
    const order = tcp('ESTABLISHED', '10.0.0.40 10.0.0.1 41000 5432 3 300', '10.0.0.1 10.0.0.40 5432 41000 3 500');
    const host = tcp('ESTABLISHED', '10.0.0.40 10.0.0.1 41000 5432 3 300', '172.17.0.2 10.0.0.40 5432 41000 3 500');
    const { pairs } = sampleOf(
      [
        { ns: 'host', entries: parseConntrack(host) },
        { ns: 'order-service', entries: parseConntrack(order) },
      ],
      acc,
    );
    expect(pairs.map((p) => `${p.from}>${p.to}:${p.port}`)).toEqual(['order-service>container:ecomnet-postgres:5432']);
  });

  it("keeps a connection where it was counted when a read of the host's table misses its DNAT entry (the kernel changed the table meanwhile)", () => {
    const acc = new Accountant();
    const order = (pk: string) => tcp('ESTABLISHED', `10.0.0.40 10.0.0.1 41000 5432 ${pk} 300`, `10.0.0.1 10.0.0.40 5432 41000 ${pk} 500`);
    const host = tcp('ESTABLISHED', '10.0.0.40 10.0.0.1 41000 5432 3 300', '172.17.0.2 10.0.0.40 5432 41000 3 500');
    sampleOf([], acc);
    sampleOf(
      [
        { ns: 'host', entries: parseConntrack(host) },
        { ns: 'order-service', entries: parseConntrack(order('3')) },
      ],
      acc,
    );
    const { pairs } = sampleOf(
      [
        { ns: 'host', entries: [] },
        { ns: 'order-service', entries: parseConntrack(order('9')) },
      ],
      acc,
    );
    expect(pairs.map((p) => `${p.from}>${p.to}:${p.port} ${p.packetsOut}`)).toEqual(['order-service>container:ecomnet-postgres:5432 9']);
  });

  it('counts what an established connection carried across a read that missed it (the table changed meanwhile), once, and not as a new connection', () => {
    const acc = new Accountant();
    const seen = (pk: string) => tcp('ESTABLISHED', `10.0.0.10 10.0.0.20 40000 3000 ${pk} 1000`, `10.0.0.20 10.0.0.10 3000 40000 ${pk} 2000`);
    sampleOf([{ ns: 'api-gateway', entries: parseConntrack(seen('5')) }], acc);
    sampleOf([{ ns: 'api-gateway', entries: [] }], acc);
    const { pairs } = sampleOf([{ ns: 'api-gateway', entries: parseConntrack(seen('9')) }], acc);
    expect(pairs.map((p) => [p.from, p.to, p.opened, p.packetsOut, p.packetsIn])).toEqual([['nginx-lb', 'api-gateway', 0, 4, 4]]);
  });

  it("decides again once the host's entry is read, for a connection first seen without it", () => {
    const acc = new Accountant();
    const order = (pk: string) => tcp('ESTABLISHED', `10.0.0.40 10.0.0.1 41000 5432 ${pk} 300`, `10.0.0.1 10.0.0.40 5432 41000 ${pk} 500`);
    const host = tcp('ESTABLISHED', '10.0.0.40 10.0.0.1 41000 5432 5 300', '172.17.0.2 10.0.0.40 5432 41000 5 500');
    sampleOf([], acc);
    sampleOf([{ ns: 'order-service', entries: parseConntrack(order('3')) }], acc);
    const { pairs } = sampleOf(
      [
        { ns: 'host', entries: parseConntrack(host) },
        { ns: 'order-service', entries: parseConntrack(order('5')) },
      ],
      acc,
    );
    expect(pairs.map((p) => `${p.from}>${p.to}:${p.port} ${p.packetsOut} live ${p.live}`)).toEqual(['order-service>host:5432 3 live 0', 'order-service>container:ecomnet-postgres:5432 2 live 1']);
  });

  it('takes a tuple whose counters went back for a new connection, and pairDelta gives what happened between two samples', () => {
    const acc = new Accountant();
    const snap = (pairs: ReturnType<Accountant['account']>['pairs']) => ({ pairs }) as Snapshot;
    const one = (pk: string) => [{ ns: 'api-gateway', entries: parseConntrack(tcp('ESTABLISHED', `10.0.0.10 10.0.0.20 40000 3000 ${pk} 100`, `10.0.0.20 10.0.0.10 3000 40000 ${pk} 100`)) }];
    const s0 = snap(sampleOf([], acc).pairs);
    const s1 = snap(sampleOf(one('50'), acc).pairs);
    const s2 = snap(sampleOf(one('2'), acc).pairs);
    expect(s1.pairs[0]).toMatchObject({ opened: 1, packetsOut: 50 });
    expect(s2.pairs[0]).toMatchObject({ opened: 2, packetsOut: 52 });
    expect(pairDelta(s1, s2)[0]).toMatchObject({ opened: 1, packetsOut: 2, bytesOut: 100 });
    expect(pairDelta(s0, s2)[0]).toMatchObject({ opened: 2, packetsOut: 52 });
  });

  it('leaves a connection between two namespaces it does not read, and one it only forwards, uncounted', () => {
    const acc = new Accountant();
    sampleOf([], acc);
    const forwarded = tcp('ESTABLISHED', '10.0.0.20 10.0.0.40 1 5000 1 1', '10.0.0.40 10.0.0.20 5000 1 1 1');
    expect(sampleOf([{ ns: 'nginx-lb', entries: parseConntrack(forwarded) }], acc).pairs).toEqual([]);
  });
});

describe('memory: what the accountant keeps is bounded, whatever talks to the host', () => {
  const dir = new Directory(endpoints);
  /** One sample of `n` connections into nginx-lb, the i-th from `from(i)` to port `port(i)`. */
  const flood = (n: number, from: (i: number) => string, port: (i: number) => number): Table[] => [
    {
      ns: 'nginx-lb',
      entries: parseConntrack(
        Array.from({ length: n }, (_, i) => tcp('SYN_RECV', `${from(i)} 10.0.0.10 ${1024 + (i % 60_000)} ${port(i)} 1 60`, `10.0.0.10 ${from(i)} ${port(i)} ${1024 + (i % 60_000)} 1 60`)).join('\n'),
      ),
    },
  ];
  /** 10,000 distinct documentation addresses (198.18.0.0/15, RFC 2544). */
  const outsider = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

  it('10,000 distinct outside addresses: each beyond the first MAX_EXTERNAL is counted in one outside bucket, and nothing is lost', () => {
    const acc = new Accountant();
    acc.account([], dir, 1);
    const { pairs } = acc.account(
      flood(10_000, outsider, () => 80),
      dir,
      1,
    );
    expect(pairs.length).toBeLessThanOrEqual(MAX_EXTERNAL + 1);
    expect(pairs.find((p) => p.from === OTHER_EXTERNAL)).toMatchObject({ to: 'nginx-lb', port: 80, live: 10_000 - MAX_EXTERNAL, opened: 10_000 - MAX_EXTERNAL });
    expect(pairs.reduce((n, p) => n + p.opened, 0)).toBe(10_000);
    // Named once, named for good: a later sample keeps the same first addresses apart.
    const again = acc.account(
      flood(
        10_000,
        (i) => outsider(9_999 - i),
        () => 80,
      ),
      dir,
      1,
    ).pairs;
    expect(again.length).toBeLessThanOrEqual(MAX_EXTERNAL + 1);
  });

  it('10,000 distinct ports (a scan): pairs stay under MAX_PAIRS, the further ports in one entry per (from, to, protocol)', () => {
    const acc = new Accountant();
    acc.account([], dir, 1);
    const { pairs } = acc.account(
      flood(
        10_000,
        () => '203.0.113.130',
        (i) => 1 + i,
      ),
      dir,
      1,
    );
    expect(pairs.length).toBeLessThanOrEqual(MAX_PAIRS + 1);
    expect(pairs.find((p) => p.port === undefined)).toMatchObject({ from: 'ext-client', to: 'nginx-lb', proto: 'tcp', opened: 10_000 - MAX_PAIRS });
    expect(pairs.reduce((n, p) => n + p.opened, 0)).toBe(10_000);
  });

  it('the history keeps its size: past samples hold only the pairs and interfaces active in their interval, never a copy of every pair', () => {
    const acc = new Accountant();
    const history = new History(300);
    acc.account([], dir, 1);
    let snapshot: Snapshot | undefined;
    for (let seq = 1; seq <= 400; seq++) {
      // A new outside address every sample, and one busy pair throughout.
      const tables = flood(
        25,
        (i) => outsider(seq * 25 + i),
        () => 80,
      );
      const { pairs, protocols, states } = acc.account(tables, dir, 1);
      snapshot = {
        seq,
        at: '',
        intervalMs: 1000,
        endpoints,
        links: [],
        health: [],
        pairs,
        declared: declaredOf(topology),
        protocols,
        states,
        interfaces: [],
        observer: { cpuPercent: 0, sampleMs: 0 },
        notes: [],
      };
      history.push(snapshot);
    }
    const kept = history.all();
    const bytes = JSON.stringify(kept).length;
    console.log(`history of 300 samples after 10,000 outside addresses: ${bytes} bytes of JSON, ${snapshot!.pairs.length} pairs in the newest`);
    expect(kept).toHaveLength(300);
    // The newest is whole (the page starts from it); it is what the observer handed out.
    expect(kept.at(-1)).toBe(snapshot);
    expect(snapshot!.pairs.length).toBeLessThanOrEqual(MAX_EXTERNAL + 1);
    for (const s of kept.slice(0, -1)) expect(s.pairs.every((p) => p.rate.bytes > 0 || p.rate.packets > 0 || p.rate.opened > 0)).toBe(true);
    // What the topology declares is the newest's alone: the same in every sample, the page reads it from the newest.
    expect(kept.slice(0, -1).filter((s) => s.declared !== undefined)).toEqual([]);
    expect(kept.at(-1)!.declared).toEqual(declaredOf(topology));
    expect(bytes).toBeLessThan(300 * 20 * 1024);
  });
});
