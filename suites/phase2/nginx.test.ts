import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { escapeRegExp } from '../../src/text.ts';
import { runDir } from '../support/platform.ts';
import { deliverable, recordedShell } from '../support/evidence.ts';
import { client, nsCommand, port } from '../support/checks.ts';
import { optionOf, parseSave } from '../support/netfilter.ts';
import { namespaces, nginx } from '../support/seed.ts';

const lb = nodeOf('nginx');
const gw = nodeOf('gateway');
// Task 1.1's list, in the seed's order: nginx-lb, then api-gateway.
const [, seedGateway] = namespaces;

describe('2.1 nginx load balancer', () => {
  it(`nginx listens on :${lb.port} in ${lb.name}, with the seed's upstream and headers in its config`, async () => {
    const ss = await recordedShell(nsCommand(lb.name, `ss -lntp | grep ':${lb.port} '`));
    expect(ss.stdout).toMatch(/nginx/);
    const conf = await recordedShell(nsCommand(lb.name, `cat ${runDir.nginxConf}`));
    expect(conf.stdout).toMatch(new RegExp(`upstream api_gateway \\{\\s+server ${escapeRegExp(seedGateway.ip)}:${seedGateway.port};`));
    expect(conf.stdout).toContain(`proxy_set_header ${nginx.realIpHeader} $remote_addr;`);
  });

  it(`/health answers OK from the host through localhost:${port} and the host address`, async () => {
    deliverable('2.1-health-host');
    for (const host of ['localhost', topology.outside.bridge.ip]) {
      const r = await recordedShell(`curl -sS -i http://${host}:${port}/health`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(r.stdout).toMatch(/^Content-Type: text\/plain/im);
      expect(r.stdout.endsWith(`\r\n\r\n${nginx.health}`)).toBe(true);
    }
  });

  it(`/health answers OK from another namespace (${gw.name} -> ${lb.ip})`, async () => {
    deliverable('2.1-health-namespace');
    const r = await recordedShell(nsCommand(gw.name, `curl -sS http://${lb.ip}/health`));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(nginx.health);
  });

  it(`sends the gateway ${nginx.realIpHeader} with the external client's address, replacing one the client forged (counted on the wire in ${gw.name})`, async () => {
    const line = (value: string) => `${nginx.realIpHeader}: ${value}|0d0a|`;
    const forged = 'forged-by-client';
    // Counting rules (no target) in the gateway's own namespace: the kernel counts the packets
    // to the gateway whose payload holds each complete header line.
    const rule = (comment: string, value: string) => `INPUT -p tcp --dport ${gw.port} -m string --algo bm --hex-string '${line(value)}' -m comment --comment ${comment}`;
    const rules = [rule('real-ip', client.ip), rule('forged-ip', forged)];
    const iptables = (args: string) => recordedShell(nsCommand(gw.name, `iptables ${args}`));
    try {
      for (const r of rules) expect((await iptables(`-A ${r}`)).exitCode).toBe(0);
      const r = await recordedShell(
        nsCommand(client.name, `curl -sS -m 5 -o /dev/null -w '%{http_code}' -H '${nginx.realIpHeader}: ${forged}' http://${topology.outside.bridge.ip}:${port}/api/products`),
      );
      expect(r.stdout).toBe('200');
      const saved = parseSave((await recordedShell(nsCommand(gw.name, 'iptables-save -c -t filter'))).stdout);
      const packets = (comment: string) => saved.rules.find((x) => optionOf(x, '--comment') === comment)?.counters?.packets;
      expect(packets('real-ip')).toBeGreaterThan(0);
      expect(packets('forged-ip')).toBe(0);
    } finally {
      for (const r of rules) await iptables(`-D ${r}`);
    }
  });

  it("keeps the client's X-Request-Id, or creates one, end to end", async () => {
    const kept = await recordedShell(`curl -sS -D - -o /dev/null -H 'X-Request-Id: trace-me-42' http://localhost:${port}/api/products`);
    expect(kept.stdout).toMatch(/^x-request-id: trace-me-42\r?$/im);
    const made = await recordedShell(`curl -sS -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(made.stdout).toMatch(/^x-request-id: [0-9a-f]{32}\r?$/im);
  });
});
