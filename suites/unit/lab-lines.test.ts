import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labLines } from '../../src/grader/lab-lines.ts';
import type { HostModel } from '../../src/grader/model.ts';
import { listDiff } from '../../src/host/snapshot.ts';

const read = () => JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'host-model.json'), 'utf8')) as HostModel;
const probe = ['br-uplink', 'veth-ext-br', 'veth-inet-br'];
const diff = (change: (m: HostModel) => void) => {
  const after = read();
  change(after);
  return listDiff('lab', labLines(read(), probe), labLines(after, probe));
};

describe('labLines: what verify must leave as it found it', () => {
  it('the same host reads the same; the probe coming and going does not count, nor do counters', () => {
    expect(diff(() => {})).toEqual([]);
    expect(diff((m) => (m.host.links = m.host.links.filter((l) => !probe.includes(l.name) && !probe.includes(l.master ?? ''))))).toEqual([]);
    expect(diff((m) => (m.iptables.save = m.iptables.save.replace(/\[\d+:\d+\]/g, '[7:700]')))).toEqual([]);
  });

  it('an address, a route, a restarted server, a sysctl or a rule that changed is named', () => {
    const ns = (m: HostModel, name: string) => m.namespaces.find((n) => n.name === name)!;
    expect(diff((m) => (ns(m, 'product-service').links.find((l) => l.kind === 'veth')!.addresses[0]!.ip = '10.0.0.31'))).toHaveLength(2);
    expect(diff((m) => (ns(m, 'nginx-lb').routes = []))).toContainEqual(expect.stringMatching(/^lab removed: nginx-lb route default via 10.0.0.1/));
    expect(diff((m) => (ns(m, 'api-gateway').listeners[0]!.pid = 99999))).toContainEqual(expect.stringMatching(/^lab added: api-gateway listens .* pid=99999/));
    expect(diff((m) => (m.sysctl['net.ipv4.ip_forward'] = '0'))).toContain('lab added: sysctl net.ipv4.ip_forward=0');
    expect(diff((m) => (m.iptables.save = m.iptables.save.replace(/^-A .*DNAT.*$/m, '')))).toContainEqual(expect.stringMatching(/^lab removed: iptables -A .*DNAT/));
  });
});
