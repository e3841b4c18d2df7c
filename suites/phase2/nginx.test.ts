import { describe, expect, it } from 'vitest';
import { nginx } from '../../src/grader/contract.ts';
import { optionOf, parseSave } from '../../src/grader/netfilter.ts';
import { escapeRegExp } from '../../src/text.ts';
import { client, hostAddress, httpReply, nsCommand, port, viaForward } from '../support/checks.ts';
import { contractNs } from '../../src/grader/find.ts';
import { deliverable, recordedShell, type Captured } from '../support/evidence.ts';
import { ecomnetExtras } from '../support/live.ts';
import { runDir } from '../support/platform.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');
const extras = ecomnetExtras('2.1 nginx extras');

/** nginx's /health: 200 from nginx; the seed's location answers OK (a build without it proxies to the gateway: a deviation). */
function expectHealth(r: Captured) {
  expect(r.exitCode, r.stderr).toBe(0);
  const reply = httpReply(r);
  expect(reply.status, r.stdout).toBe(200);
  expect(reply.headers.get('server'), 'the answer comes from nginx').toMatch(/^nginx/);
  if (extras) expect(reply.body).toBe(nginx.health);
}

// Each test makes its own requests and reads only their answers (the counting rules match only a header their own request sends).
describe.concurrent('2.1 nginx load balancer', () => {
  it.runIf(extras)(`nginx listens on :${lb.port} in ${lb.name}, with the seed's upstream and headers in its config`, async () => {
    const ss = await recordedShell(nsCommand(lb.name, `ss -lntp | grep ':${lb.port} '`));
    expect(ss.stdout).toMatch(/nginx/);
    const conf = await recordedShell(nsCommand(lb.name, `cat ${runDir.nginxConf}`));
    expect(conf.stdout).toMatch(new RegExp(`upstream api_gateway \\{\\s+server ${escapeRegExp(gw.ip)}:${gw.port};`));
    expect(conf.stdout).toContain(`proxy_set_header ${nginx.realIpHeader} $remote_addr;`);
  });

  it(`/health answers from nginx to a client outside, through the host's address :${port}`, async () => {
    deliverable('2.1-health-host');
    expectHealth(await viaForward.externalClient('/health', '-sS -i'));
  });

  it.runIf(extras)(`/health answers OK on the host itself through localhost:${port}`, async () => {
    const r = await recordedShell(`curl -sS -m 5 -i http://localhost:${port}/health`);
    expectHealth(r);
    expect(r.stdout).toMatch(/^Content-Type: text\/plain/im);
  });

  it(`/health answers from another namespace (${gw.name} -> ${lb.ip})`, async () => {
    deliverable('2.1-health-namespace');
    expectHealth(await recordedShell(nsCommand(gw.name, `curl -sS -m 5 -i http://${lb.ip}/health`)));
  });

  it.runIf(extras)(`sends the gateway ${nginx.realIpHeader} with the external client's address, replacing one the client forged (counted on the wire in ${gw.name})`, async () => {
    const line = (value: string) => `${nginx.realIpHeader}: ${value}|0d0a|`;
    const forged = 'forged-by-client';
    // Counting rules (no target) in the gateway's own namespace: the kernel counts the packets
    // to the gateway whose payload holds each complete header line.
    const rule = (comment: string, value: string) => `INPUT -p tcp --dport ${gw.port} -m string --algo bm --hex-string '${line(value)}' -m comment --comment ${comment}`;
    const rules = [rule('real-ip', client.ip), rule('forged-ip', forged)];
    const iptables = (args: string) => recordedShell(nsCommand(gw.name, `iptables ${args}`));
    try {
      for (const r of rules) expect((await iptables(`-A ${r}`)).exitCode).toBe(0);
      const r = await recordedShell(nsCommand(client.name, `curl -sS -m 5 -o /dev/null -w '%{http_code}' -H '${nginx.realIpHeader}: ${forged}' http://${hostAddress}:${port}/api/products`));
      expect(r.stdout).toBe('200');
      const saved = parseSave((await recordedShell(nsCommand(gw.name, 'iptables-save -c -t filter'))).stdout);
      const packets = (comment: string) => saved.rules.find((x) => optionOf(x, '--comment') === comment)?.counters?.packets;
      expect(packets('real-ip')).toBeGreaterThan(0);
      expect(packets('forged-ip')).toBe(0);
    } finally {
      for (const r of rules) await iptables(`-D ${r}`);
    }
  });

  it.runIf(extras)("keeps the client's X-Request-Id, or creates one, end to end", async () => {
    const kept = await recordedShell(`curl -sS -m 5 -D - -o /dev/null -H 'X-Request-Id: trace-me-42' http://localhost:${port}/api/products`);
    expect(kept.stdout).toMatch(/^x-request-id: trace-me-42\r?$/im);
    const made = await recordedShell(`curl -sS -m 5 -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(made.stdout).toMatch(/^x-request-id: [0-9a-f]{32}\r?$/im);
  });
});
