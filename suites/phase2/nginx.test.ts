import { describe, expect, it } from 'vitest';
import { nodeOf, topology } from '../../fixtures/topology.ts';
import { runDir } from '../../src/host/state.ts';
import { deliverable, sh } from '../support/evidence.ts';
import { inNs, port } from '../support/checks.ts';

const lb = nodeOf('nginx');
const gw = nodeOf('gateway');

describe('2.1 nginx load balancer', () => {
  it(`nginx listens on :${lb.port} in ${lb.name}, with the config generated from the topology`, async () => {
    const ss = await sh(inNs(lb.name, `ss -lntp | grep ':${lb.port} '`));
    expect(ss.stdout).toMatch(/nginx/);
    const conf = await sh(inNs(lb.name, `cat ${runDir}/nginx/nginx.conf`));
    expect(conf.stdout).toContain(`upstream api_gateway {\n        server ${gw.ip}:${gw.port};`);
    expect(conf.stdout).toContain('proxy_set_header X-Real-IP $remote_addr;');
  });

  it(`/health answers OK from the host through localhost:${port} and the host address`, async () => {
    deliverable('2.1-health-host');
    for (const host of ['localhost', topology.outside.bridge.ip]) {
      const r = await sh(`curl -sS -i http://${host}:${port}/health`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(r.stdout).toMatch(/^Content-Type: text\/plain/im);
      expect(r.stdout.endsWith('\r\n\r\nOK\n')).toBe(true);
    }
  });

  it(`/health answers OK from another namespace (${gw.name} -> ${lb.ip})`, async () => {
    deliverable('2.1-health-namespace');
    const r = await sh(inNs(gw.name, `curl -sS http://${lb.ip}/health`));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('OK\n');
  });

  it('passes X-Real-IP, and keeps or creates X-Request-Id end to end', async () => {
    const kept = await sh(`curl -sS -D - -o /dev/null -H 'X-Request-Id: trace-me-42' http://localhost:${port}/api/products`);
    expect(kept.stdout).toMatch(/^x-request-id: trace-me-42\r?$/im);
    const made = await sh(`curl -sS -D - -o /dev/null http://localhost:${port}/api/products`);
    expect(made.stdout).toMatch(/^x-request-id: [0-9a-f]{32}\r?$/im);
  });
});
