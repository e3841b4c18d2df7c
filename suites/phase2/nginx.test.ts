import { describe, expect, it } from 'vitest';
import { nginx } from '../../src/grader/contract.ts';
import { contractNs } from '../../src/grader/find.ts';
import { escapeRegExp } from '../../src/util/text.ts';
import { httpReply } from '../../src/grader/checks/trial.ts';
import { nsCommand, port } from '../support/checks.ts';
import { recordedShell } from '../support/evidence.ts';
import { checksOf, judged } from '../support/graded.ts';
import { runDir } from '../support/platform.ts';

const lb = contractNs('nginx-lb');
const gw = contractNs('api-gateway');

// Each test makes its own requests and reads only their answers.
describe.concurrent('2.1 nginx load balancer', () => {
  judged(checksOf('2.1-health-host', '2.1-health-namespace'), { concurrent: true });

  it(`nginx listens on :${lb.port} in ${lb.name}, with the seed's upstream and headers in its config`, async () => {
    const ss = await recordedShell(nsCommand(lb.name, `ss -lntp | grep ':${lb.port} '`));
    expect(ss.stdout).toMatch(/nginx/);
    const conf = await recordedShell(nsCommand(lb.name, `cat ${runDir.nginxConf}`));
    expect(conf.stdout).toMatch(new RegExp(`upstream api_gateway \\{\\s+server ${escapeRegExp(gw.ip)}:${gw.port};`));
    expect(conf.stdout).toContain(`proxy_set_header ${nginx.realIpHeader} $remote_addr;`);
  });

  it(`/health answers the seed's OK on the host itself through localhost:${port}`, async () => {
    const r = await recordedShell(`curl -sS -m 5 -i http://localhost:${port}/health`);
    const reply = httpReply(r);
    expect(reply.status, r.stdout).toBe(200);
    expect(reply.body).toBe(nginx.health);
    expect(r.stdout).toMatch(/^Content-Type: text\/plain/im);
  });

  it("keeps the client's X-Request-Id, or creates one, end to end", async () => {
    const kept = await recordedShell(`curl -sS -m 5 -D - -o /dev/null -H 'X-Request-Id: trace-me-42' http://localhost:${port}/api/products`);
    expect(kept.stdout).toMatch(/^x-request-id: trace-me-42\r?$/im);
    const made = await recordedShell(`curl -sS -m 5 -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(made.stdout).toMatch(/^x-request-id: [0-9a-f]{32}\r?$/im);
  });
});
