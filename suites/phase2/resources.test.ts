import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { priv } from '../../src/host/exec.ts';
import { check, waitFor } from '../../src/util/wait.ts';
import { topology } from '../../src/topology/default.ts';
import { readState } from '../../src/host/state.ts';
import { ORDER_RATE } from '../../src/runtime/nginx.ts';
import { MAX_BODY_BYTES } from '../../src/services/http.ts';
import { client, hostAddress, nsCommand, port } from '../support/checks.ts';
import { recordedShell, type Captured } from '../support/evidence.ts';
import { platformInfo, runDir } from '../support/platform.ts';
import { LOG_LIMIT, pipeOf } from '../../src/runtime/log-keeper.ts';

/** Replies of a curl run that wrote each body followed by `@@ STATUS CONTENT-TYPE` (-w). */
function replies(r: Captured): { status: number; type: string; body: string }[] {
  const out: { status: number; type: string; body: string }[] = [];
  let body = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^@@ (\d{3}) ?(.*)$/.exec(line);
    if (!m) {
      body += `${line}\n`;
      continue;
    }
    out.push({ status: Number(m[1]), type: m[2]!, body: body.trim() });
    body = '';
  }
  return out;
}

const json = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
};

function tally(rs: { status: number }[]): Record<number, number> {
  const n: Record<number, number> = {};
  for (const r of rs) n[r.status] = (n[r.status] ?? 0) + 1;
  return n;
}
const W = `-w '\\n@@ %{http_code} %{content_type}\\n'`;

describe('resource limits at the edge (:8080)', () => {
  it.each([
    { what: `just over the services' limit (${MAX_BODY_BYTES + 1} bytes)`, bytes: MAX_BODY_BYTES + 1, chunked: false },
    { what: 'over nginx default limit (2 MB)', bytes: 2_000_000, chunked: false },
    { what: `over the limit, chunked (${2 * MAX_BODY_BYTES} bytes, no Content-Length)`, bytes: 2 * MAX_BODY_BYTES, chunked: true },
  ])('50 bodies $what: 50x 413 with a JSON error, never a 502 or an HTML page', async ({ bytes, chunked }) => {
    const file = `/tmp/ecomnet-oversized-${bytes}`;
    const te = chunked ? `-H 'Transfer-Encoding: chunked'` : '';
    const r = await recordedShell(
      `head -c ${bytes} /dev/zero | tr '\\0' 'a' > ${file}; for i in $(seq 50); do curl -sS -m 10 -X POST -H 'Content-Type: application/json' ${te} --data-binary @${file} ${W} http://localhost:${port}/api/orders; done; rm -f ${file}`,
      { timeoutMs: 120_000 },
    );
    const rs = replies(r);
    expect(rs).toHaveLength(50);
    expect(tally(rs)).toEqual({ 413: 50 });
    for (const x of rs) {
      expect(x.type).toMatch(/^application\/json/);
      expect(json(x.body)).toEqual({ error: expect.stringContaining('too large') });
    }
  });

  it(`a body of exactly ${MAX_BODY_BYTES} bytes still reaches the order service (its 400 for a bad order, not a 413)`, async () => {
    const r = await recordedShell(
      `head -c ${MAX_BODY_BYTES} /dev/zero | tr '\\0' ' ' | curl -sS -m 10 -X POST -H 'Content-Type: application/json' --data-binary @- ${W} http://localhost:${port}/api/orders`,
    );
    const [x] = replies(r);
    expect(x?.status, r.stdout).toBe(400);
  });

  it(`POST /api/orders from one outside client is limited to ${ORDER_RATE.perSecond}/s (burst ${ORDER_RATE.burst}): 429 with a JSON error; GETs and the host are not`, async () => {
    const n = 3 * ORDER_RATE.burst;
    const outsideUrl = `http://${hostAddress}:${port}`;
    const bodies = mkdtempSync(join(tmpdir(), 'ecomnet-429-'));
    try {
      // In parallel, each answer in a file of its own (#1: the transfer's number) named on its -w line.
      // Invalid orders (400 from the order service) count as well, and write nothing.
      const burst = (url: string, from?: string, method = "-X POST -H 'Content-Type: application/json' -d '{}'", path = '/api/orders') => {
        const curl = `curl -sS -Z --parallel-max ${n} -m 10 ${method} -o '${bodies}/#1.json' -w 'answer %{http_code} %{filename_effective} %{content_type}\\n' '${url}${path}?[1-${n}]'`;
        return recordedShell(from ? nsCommand(from, curl) : curl);
      };
      const answers = (r: Captured) =>
        [...r.stdout.matchAll(/^answer (\d{3}) (\S+) ?(.*)$/gm)].map(([, status, file, type]) => ({ status: Number(status), type: type!, body: readFileSync(file!, 'utf8') }));
      const outside = answers(await burst(outsideUrl, client.name));
      expect(outside).toHaveLength(n);
      const limited = outside.filter((x) => x.status === 429);
      const passed = outside.filter((x) => x.status !== 429);
      expect(passed.length).toBeGreaterThanOrEqual(ORDER_RATE.burst);
      expect(passed.every((x) => x.status === 400)).toBe(true);
      expect(limited.length).toBeGreaterThanOrEqual(n - ORDER_RATE.burst - 1 - ORDER_RATE.perSecond);
      for (const x of limited) {
        expect(x.type).toMatch(/^application\/json/);
        expect(json(x.body)).toEqual({ error: expect.stringContaining('Too many orders') });
      }
      // Reads are not limited, from the same client at the same moment.
      expect(tally(answers(await burst(outsideUrl, client.name, '', '/api/products')))).toEqual({ 200: n });
      // The host itself (its bench and tests) is not limited.
      expect(tally(answers(await burst(`http://localhost:${port}`)))).toEqual({ 400: n });
    } finally {
      rmSync(bodies, { recursive: true, force: true });
    }
    // Let the bucket refill, so later suites posting from the outside client start with a full burst.
    await new Promise((r) => setTimeout(r, (1000 * ORDER_RATE.burst) / ORDER_RATE.perSecond + 500));
  });

  it("every server's output goes to its bounded log through the platform's one keeper, the supervisor (no process of its own); nginx writes its access log itself; containers' logs are capped too", async () => {
    const state = readState(runDir)!;
    const { services, containers } = state;
    // Another user's descriptors (the supervisor and nginx run as root under sudo): read as root.
    const fdsOf = async (pid: number) => (await priv(['sh', '-c', 'for f in /proc/"$1"/fd/*; do readlink "$f"; done', 'sh', String(pid)], { allowFail: true })).stdout.split('\n');
    expect((await recordedShell('ps -eo args | grep -c "[l]og-keeper" || true')).stdout.trim()).toBe('0');
    // The supervisor reads each server's pipe (the internet host, test scenery, writes its few errors to its file).
    const kept = await fdsOf(state.supervisor!.pid);
    for (const s of services.filter((x) => x.name !== 'internet')) {
      const log = runDir.log(s.name === 'nginx' ? 'nginx-error' : s.name);
      expect(kept, log).toContain(pipeOf(log));
      expect(statSync(log).mode & 0o777, log).toBe(0o600);
    }
    const nginx = services.find((s) => s.name === 'nginx');
    if (nginx) expect(await fdsOf(nginx.pid)).toContain(runDir.log('nginx-access'));
    const inContainers = platformInfo().data === 'containers' ? ['postgres', 'redis'] : [];
    expect(services.map((s) => s.name).sort()).toEqual(
      topology.app.nodes
        .map((n) => n.component!)
        .filter((c) => !inContainers.includes(c))
        .concat('internet')
        .sort(),
    );
    for (const id of containers) {
      const config = await recordedShell(`docker inspect -f '{{json .HostConfig.LogConfig}}' ${id}`);
      expect(JSON.parse(config.stdout)).toEqual({ Type: 'json-file', Config: { 'max-size': String(LOG_LIMIT.maxBytes), 'max-file': String(LOG_LIMIT.keep + 1) } });
    }
    expect(containers).toHaveLength(inContainers.length);
  });

  it("nginx's access log, near its cap, is renamed by the keeper and nginx reloaded: the next requests go to a new file, none over the cap, all 0600", async () => {
    const access = runDir.log('nginx-access');
    // Long request lines (about 8 KB each) fill it in a few hundred requests, from the host (not rate limited).
    const filler = `/health?${'f'.repeat(8000)}`;
    await waitFor(
      async () => {
        await Promise.all(Array.from({ length: 32 }, () => fetch(`http://localhost:${port}${filler}`).then((r) => r.arrayBuffer())));
        check(existsSync(`${access}.1`), 'not rotated yet');
      },
      { what: 'the rotation of the access log', timeoutMs: 60_000, intervalMs: 0 },
    );
    const marker = `/health?after-rotation-${Date.now()}`;
    await waitFor(
      async () => {
        await fetch(`http://localhost:${port}${marker}`).then((r) => r.arrayBuffer());
        check(readFileSync(access, 'utf8').includes(marker), 'not in the new file yet');
      },
      { what: 'a request logged in the new file', timeoutMs: 10_000 },
    );
    const kept = [access, `${access}.1`, `${access}.2`].filter((x) => existsSync(x));
    // What nginx wrote to the old file until its reload took is cut to the cap on the keeper's next look.
    await waitFor(
      () =>
        check(
          kept.every((f) => statSync(f).size <= LOG_LIMIT.maxBytes),
          kept.map((f) => `${f}: ${statSync(f).size} B`).join(', '),
        ),
      {
        what: 'every access log within the cap',
        timeoutMs: 5000,
      },
    );
    for (const f of kept) expect(statSync(f).mode & 0o777, f).toBe(0o600);
  });
});
