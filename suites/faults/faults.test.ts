import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressOf, nodeOf, topology } from '../../src/topology/default.ts';
import { ORDER_ROLE } from '../../src/data/postgres.ts';
import { run } from '../../src/host/exec.ts';
import { readState } from '../../src/host/state.ts';
import { reportPaths } from '../../src/report/paths.ts';
import { status } from '../../src/runtime/status.ts';
import { containerName } from '../../src/runtime/engine.ts';
import { readSecrets } from '../../src/runtime/secrets.ts';
import { readSupervision } from '../../src/runtime/supervisor.ts';
import type { Component } from '../../src/topology/types.ts';
import { until } from '../../src/util/wait.ts';
import { nsCommand, port } from '../support/checks.ts';
import { ecomnet } from '../support/cli.ts';
import { sql, sqlAs } from '../support/data.ts';
import { recordedShell, type Captured } from '../support/evidence.ts';
import { pgLogin } from '../support/live.ts';
import { operatorHeader, type OperatorHeader } from '../support/operator.ts';
import { runDir } from '../support/platform.ts';

/**
 * Issue 12, "faults survived, nothing lost": each fault injected as a learner would (`ecomnet
 * fault`), with evidence before, during and after it, and the numbers in reports/faults.json.
 */

const base = `http://localhost:${port}`;
const numbers: Record<string, unknown> = {};
afterAll(() => {
  const file = reportPaths().faults;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(numbers, null, 2)}\n`);
  const recoveries = Object.entries(numbers)
    .filter(([k]) => k.startsWith('kill -9 '))
    .map(([k, v]) => `${k.slice('kill -9 '.length)} ${(v as { recoveryMs: number }).recoveryMs} ms`);
  const released = Object.entries(numbers)
    .filter(([k]) => k.startsWith('kill --hold '))
    .map(([k, v]) => `${k.slice('kill --hold '.length)} ${(v as { servesAgainAfterClearMs: number }).servesAgainAfterClearMs} ms`);
  console.log(`faults survived: ${Object.keys(numbers).length} cases; back after kill -9: ${recoveries.join(', ')}; serving after the clear of a hold: ${released.join(', ')} (all numbers: ${file})`);
});

/** A reply printed by curl -w '\n%{http_code} %{time_total}': body, status (0: no HTTP answer) and seconds. */
function reply(r: Captured): { body: string; code: number; seconds: number } {
  const cut = r.stdout.lastIndexOf('\n');
  const [code, seconds] = r.stdout.slice(cut + 1).split(' ');
  return { body: r.stdout.slice(0, cut), code: Number(code), seconds: Number(seconds) };
}

const curl = `curl -sS -m 5 -w '\\n%{http_code} %{time_total}'`;
const getProducts = `${curl} ${base}/api/products`;
const postOrder = (customer: string) => `${curl} -X POST -H 'Content-Type: application/json' -d '{"customer_id":"${customer}","product_id":"prod-1","quantity":1,"total_price":10}' ${base}/api/orders`;

/** What a client sees of each service: the request it serves, through nginx at :8080. */
const probeOf: Record<Component, string> = {
  nginx: getProducts,
  gateway: getProducts,
  product: getProducts,
  redis: getProducts,
  order: postOrder('fault-order'),
  postgres: postOrder('fault-postgres'),
} as Record<Component, string>;

/** What that request gets while the service is down: nginx refuses; a missing backend is a clear JSON 503; Redis is only a cache. */
const whileDown: Record<string, { code: number; error?: string }> = {
  nginx: { code: 0 },
  gateway: { code: 503, error: 'api gateway unavailable' },
  product: { code: 503, error: 'product-service unavailable' },
  order: { code: 503, error: 'order-service unavailable' },
  redis: { code: 200 },
  postgres: { code: 503, error: 'Database unavailable' },
};

/** Does the request (a curl line) get a 2xx now? Polled without recording: the evidence is the recorded try after it. */
async function answers(cmd: string): Promise<boolean> {
  const r = await run(['bash', '-c', cmd], { allowFail: true });
  return /\n2\d\d /.test(r.stdout);
}

/** How often the service was restarted, as `ecomnet status` shows it: by the supervisor, or by Docker for a data container. */
async function restartsOf(service: Component): Promise<{ restarts: number; healthy: boolean; gaveUp?: string }> {
  const n = (await status(topology, runDir)).nodes.find((x) => x.service === service || x.service === `${service} (container)`);
  if (n?.restarts === undefined) throw new Error(`ecomnet status shows no restart count for ${service}`);
  return { restarts: n.restarts, healthy: n.health === 'healthy', gaveUp: n.gaveUp };
}

describe('kill -9 of each service: a clear answer while it is down, back by itself, nothing lost', () => {
  // Orders are read back as the operator: no stranger may read one.
  let operator: OperatorHeader;
  beforeAll(() => {
    operator = operatorHeader(runDir);
  });
  afterAll(() => operator.remove());
  const readOrder = (id: number) => `${curl} ${operator.curlArgs} ${base}/api/orders/${id}`;
  it.each(['nginx', 'gateway', 'product', 'order', 'redis', 'postgres'] as Component[])('%s', async (service) => {
    const probe = probeOf[service];
    const kept = reply(await recordedShell(postOrder(`kept-before-${service}`)));
    expect(kept.code, `before: an order is stored (${kept.body})`).toBe(201);
    const keptId = (JSON.parse(kept.body) as { order_id: number }).order_id;
    const before = reply(await recordedShell(probe));
    expect(before.code, `before: ${before.body}`).toBeLessThan(300);
    const restartsBefore = (await restartsOf(service)).restarts;

    const kill = await ecomnet(['fault', 'kill', service], runDir.root);
    const killedAt = performance.now();
    expect(kill.exitCode, kill.stderr).toBe(0);
    const during = await recordedShell(probe);
    const d = reply(during);
    const expected = whileDown[service]!;
    if (service === 'nginx') {
      // No HTTP answer at all: curl's exit 7 is "Failed to connect ... Connection refused".
      expect(during.exitCode, during.stderr).toBe(7);
      expect(during.stderr).toMatch(/Connection refused|Couldn't connect/);
    } else {
      expect(d.code, `during: ${d.body}`).toBe(expected.code);
      if (expected.error) expect(JSON.parse(d.body)).toEqual({ error: expected.error });
      expect(d.seconds).toBeLessThan(3);
    }

    // Back by itself: restarted by the supervisor, and the probe answers as before.
    const restarted = async () => {
      const now = await restartsOf(service);
      return now.healthy && now.restarts > restartsBefore;
    };
    // Polled with GETs (the order stored before, for the order path): nginx may limit POSTs per client.
    const poll = probe.includes('-X POST') ? readOrder(keptId) : probe;
    const back = await until(async () => (await restarted()) && (await answers(poll)), { timeoutMs: 20_000, intervalMs: 50 });
    const recoveryMs = Math.round(performance.now() - killedAt);
    expect(back, `${service} answered again within 20 s`).toBe(true);
    const after = reply(await recordedShell(probe));
    expect(after.code).toBeLessThan(300);
    const rec = readState(runDir)?.services.find((x) => x.name === service);
    if (rec) {
      // Natively, the listener in its namespace is the restarted process the state records.
      const n = nodeOf(service);
      const ss = await recordedShell(nsCommand(n.name, `ss -ltnpH 'sport = :${n.port}'`));
      expect(ss.stdout).toContain(`pid=${rec.pid},`);
    }
    expect(await restartsOf(service)).toEqual({ restarts: restartsBefore + 1, healthy: true });
    const shown = await ecomnet(['status'], runDir.root);
    expect(shown.stdout).toMatch(new RegExp(`\\b${service}\\b.*\\s${restartsBefore + 1}\\s+healthy`));

    // Nothing lost: the order stored before the crash reads back the same.
    const read = reply(await recordedShell(readOrder(keptId)));
    expect(read.code).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ id: keptId, customer_id: `kept-before-${service}` });
    numbers[`kill -9 ${service}`] = {
      recoveryMs,
      supervisorRecoveryMs: readSupervision(runDir)?.services[service]?.lastRecoveryMs,
      whileDown: service === 'nginx' ? 'connection refused' : `${d.code} ${d.body}`,
    };
  });
});

/** Issue 11: `fault kill --hold` keeps a service down (what the observe page's test needs to see it red) until `fault clear`. */
describe('kill --hold: down until fault clear, then back', () => {
  /** Each service, natively the supervisor's; in containers mode redis and postgres are data containers, Docker's. */
  it.each(['nginx', 'gateway', 'product', 'order', 'redis', 'postgres'] as Component[])(
    '%s stays down for 3 s, not restarted, status says held; fault clear returns once it serves',
    async (service) => {
      const probe = probeOf[service];
      const expected = whileDown[service]!;
      expect(reply(await recordedShell(probe)).code, 'before: it serves').toBeLessThan(300);
      const restartsBefore = (await restartsOf(service)).restarts;
      const native = readState(runDir)?.services.find((x) => x.name === service);
      const n = nodeOf(service);

      const kill = await ecomnet(['fault', 'kill', service, '--hold'], runDir.root);
      const killedAt = performance.now();
      expect(kill.exitCode, kill.stderr).toBe(0);
      let clear: Awaited<ReturnType<typeof ecomnet>> | undefined;
      // Looked at every 200 ms for 3 s, and at least 6 times however slow a look is on a loaded
      // host: never healthy, never restarted.
      const samples: { restarts: number; healthy: boolean }[] = [];
      try {
        expect((await ecomnet(['fault', 'list'], runDir.root)).stdout).toContain(`kill --hold ${service}`);
        while (performance.now() - killedAt < 3000 || samples.length < 6) {
          samples.push(await restartsOf(service));
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(
          samples.filter((x) => x.healthy || x.restarts !== restartsBefore),
          'a sample while held showed it healthy or restarted',
        ).toEqual([]);
        const during = reply(await recordedShell(probe));
        expect(during.code, `while held: ${during.body}`).toBe(expected.code);
        if (expected.error) expect(JSON.parse(during.body)).toEqual({ error: expected.error });
        if (native) {
          expect(readSupervision(runDir)?.services[service]).toMatchObject({ state: 'held', restarts: restartsBefore });
          const ss = await recordedShell(nsCommand(n.name, `ss -ltnH 'sport = :${n.port}'`));
          expect(ss.stdout.trim(), 'nothing listens in its namespace').toBe('');
        } else {
          // Docker's on-failure policy did not bring the container back.
          const inspect = await recordedShell(`docker inspect -f '{{.State.Running}} {{.RestartCount}}' ${containerName(topology.tag, service)}`);
          expect(inspect.stdout.trim()).toBe(`false ${restartsBefore}`);
        }
        const shown = await ecomnet(['status'], runDir.root);
        expect(shown.stdout).toMatch(new RegExp(`\\b${service}\\b.*\\s${restartsBefore} \\(held\\)\\s+unhealthy`));
        // Held means held: neither a second kill nor a restart touches it.
        const again = await ecomnet(['fault', 'kill', service], runDir.root);
        expect(again.exitCode).toBe(1);
        expect(again.stderr).toContain(`${service} is held down`);
        if (service === 'gateway' || service === 'product' || service === 'order') {
          const restart = await ecomnet(['restart', service], runDir.root);
          expect(restart.exitCode).toBe(1);
          expect(restart.stderr).toContain(`${service} is held down`);
        }
        expect(performance.now() - killedAt).toBeGreaterThanOrEqual(3000);
      } finally {
        clear = await ecomnet(['fault', 'clear'], runDir.root);
      }
      const heldForMs = Math.round(performance.now() - killedAt - clear.durationMs);
      expect(clear.exitCode, clear.stderr).toBe(0);
      const served = new RegExp(`${service} serves again \\((\\d+) ms after the clear\\)`).exec(clear.stdout);
      expect(served, clear.stdout).not.toBeNull();
      // clear returned once it serves: the first request after it is answered, with no polling.
      const after = reply(await recordedShell(probe));
      expect(after.code, `after the clear: ${after.body}`).toBeLessThan(300);
      // `docker start` (the clear, in containers mode) resets Docker's restart count; the supervisor's own count is kept.
      expect(await restartsOf(service)).toEqual({ restarts: native ? restartsBefore : 0, healthy: true });
      expect((await ecomnet(['fault', 'list'], runDir.root)).stdout.trim()).toBe('no faults injected');
      if (native) {
        const rec = readState(runDir)?.services.find((x) => x.name === service);
        expect(rec?.pid, 'a new process').not.toBe(native.pid);
        expect(readSupervision(runDir)?.services[service]).toMatchObject({ state: 'running', restarts: restartsBefore });
        const ss = await recordedShell(nsCommand(n.name, `ss -ltnpH 'sport = :${n.port}'`));
        expect(ss.stdout).toContain(`pid=${rec!.pid},`);
      }
      numbers[`kill --hold ${service}`] = {
        heldForMs,
        samplesWhileHeld: samples.length,
        healthyOrRestartedSamples: 0,
        whileHeld: `${whileDown[service]!.code}${whileDown[service]!.error ? ` ${whileDown[service]!.error}` : ''}`,
        servesAgainAfterClearMs: Number(served![1]),
        clearCommandMs: Math.round(clear.durationMs),
        restartedBy: native ? 'the supervisor, once the hold was cleared' : 'fault clear (docker start)',
      };
    },
  );
});

describe('link faults on the product service', () => {
  const product = nodeOf('product');

  it('its veth down: the gateway answers 504/503 JSON within its deadline, no hung request; back up, it serves again', async () => {
    const before = reply(await recordedShell(getProducts));
    expect(before.code).toBe(200);
    const restarts = (await restartsOf('product')).restarts;
    const down = await ecomnet(['fault', 'link-down', product.name], runDir.root);
    expect(down.exitCode, down.stderr).toBe(0);
    try {
      await recordedShell(`ip -br link show ${product.veth}-br`);
      const during = await Promise.all([1, 2, 3].map(() => recordedShell(getProducts)));
      for (const r of during.map(reply)) {
        expect([503, 504]).toContain(r.code);
        expect(JSON.parse(r.body)).toMatchObject({ error: expect.stringMatching(/^product-service /) });
        expect(r.seconds).toBeLessThan(3);
      }
      await recordedShell(nsCommand(nodeOf('gateway').name, `ss -tn dst ${product.ip}`));
      numbers['link-down product-service'] = { whileDown: during.map((r) => `${reply(r).code} in ${reply(r).seconds} s`) };
    } finally {
      const clear = await ecomnet(['fault', 'clear'], runDir.root);
      expect(clear.exitCode, clear.stderr).toBe(0);
    }
    expect(await until(() => answers(getProducts), { timeoutMs: 10_000 })).toBe(true);
    const after = reply(await recordedShell(getProducts));
    expect(after.code).toBe(200);
    // The process never died: the supervisor had nothing to do.
    expect((await restartsOf('product')).restarts).toBe(restarts);
  });

  it('5% loss on its link (an iptables statistic rule of ours, no netem): every request ends, none hangs', async () => {
    const loss = await ecomnet(['fault', 'loss', product.name, '--percent', '5'], runDir.root);
    expect(loss.exitCode, loss.stderr).toBe(0);
    let load: Captured;
    try {
      load = await recordedShell(`${process.execPath} ${join(process.cwd(), 'suites/faults/load.ts')} gets ${base}/api/products 1000 16`, { timeoutMs: 120_000 });
      const counters = await recordedShell(nsCommand(product.name, 'iptables -w -L ECOMNET-FAULT -n -v -x'));
      const dropped = Number(/^\s*(\d+)\s+\d+\s+DROP/m.exec(counters.stdout)?.[1]);
      expect(dropped, 'the rule dropped packets').toBeGreaterThan(0);
      numbers['loss 5% product-service'] = { ...JSON.parse(load.stdout), packetsDropped: dropped };
    } finally {
      const clear = await ecomnet(['fault', 'clear'], runDir.root);
      expect(clear.exitCode, clear.stderr).toBe(0);
    }
    expect(load.exitCode, load.stderr).toBe(0);
    const summary = JSON.parse(load.stdout) as { statuses: Record<string, number>; hung: number; slowestMs: number };
    expect(summary.hung).toBe(0);
    expect(
      Object.keys(summary.statuses).every((s) => ['200', '503', '504'].includes(s)),
      JSON.stringify(summary.statuses),
    ).toBe(true);
    expect(summary.statuses['200'] ?? 0).toBeGreaterThanOrEqual(900);
    expect(summary.slowestMs).toBeLessThan(5000);
    const gone = await recordedShell(nsCommand(product.name, 'iptables-save'));
    expect(gone.stdout).not.toContain('FAULT');
  });

  it('200 ms delay on its link (netem): the gateway still answers in time', async (ctx) => {
    const delay = await ecomnet(['fault', 'delay', product.name, '--ms', '200'], runDir.root);
    if (delay.exitCode !== 0 && /netem/.test(delay.stderr)) {
      const reason = `skipped: ${delay.stderr.trim().replace(/^ecomnet: /, '')}`;
      console.log(reason);
      numbers['delay 200 ms product-service'] = reason;
      ctx.skip(reason);
    }
    expect(delay.exitCode, delay.stderr).toBe(0);
    try {
      const during = await Promise.all([1, 2, 3].map(() => recordedShell(getProducts)));
      for (const r of during.map(reply)) {
        expect(r.code).toBe(200);
        expect(r.seconds).toBeGreaterThan(0.2);
        expect(r.seconds).toBeLessThan(2.5);
      }
      numbers['delay 200 ms product-service'] = { seconds: during.map((r) => reply(r).seconds) };
    } finally {
      await ecomnet(['fault', 'clear'], runDir.root);
    }
  });
});

describe('restarts under load', () => {
  const load = join(process.cwd(), 'suites/faults/load.ts');

  /** Start `command` (a load, printing its JSON summary), kill -9 `service` once it has run `afterMs`, and wait for the load. */
  async function killDuringLoad<S>(command: string, timeoutMs: number, afterMs: number, service: Component): Promise<{ summary: S; killedAt: number }> {
    const loading = recordedShell(command, { timeoutMs });
    await new Promise((r) => setTimeout(r, afterMs));
    const kill = await ecomnet(['fault', 'kill', service], runDir.root);
    const killedAt = Date.now();
    expect(kill.exitCode, kill.stderr).toBe(0);
    const r = await loading;
    expect(r.exitCode, r.stderr).toBe(0);
    return { summary: JSON.parse(r.stdout) as S, killedAt };
  }

  it('PostgreSQL killed during 5,000 POST /api/orders at concurrency 64, retried with the same Idempotency-Key: exactly 5,000 rows, none twice, every 201 stored', async () => {
    const prefix = `load-${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-orders-'));
    const ids = join(dir, 'ids.json');
    try {
      // Straight to the gateway from nginx's namespace, as nginx itself would: nginx's per-client limits stay out of it.
      const orderRestarts = (await restartsOf('order')).restarts;
      const { summary, killedAt } = await killDuringLoad<{
        statuses: Record<string, number>;
        retries: number;
        seen5xx: Record<string, number>;
        created: number;
        startedAt: number;
        endedAt: number;
        hung: number;
      }>(nsCommand(nodeOf('nginx').name, `${process.execPath} ${load} orders http://${addressOf('gateway')}/api/orders 5000 64 ${prefix} ${ids}`), 180_000, 700, 'postgres');
      expect(killedAt, 'PostgreSQL died while the load ran').toBeLessThan(summary.endedAt);
      expect(summary.retries, 'the outage was felt: some requests were retried').toBeGreaterThan(0);
      // The database's crash is the order service's 503, not its own: it outlives the connections it loses.
      expect((await restartsOf('order')).restarts, 'the order service did not crash').toBe(orderRestarts);
      expect(Object.keys(summary.seen5xx)).toEqual(['503 {"error":"Database unavailable"}']);
      expect((summary.statuses['201'] ?? 0) + (summary.statuses['200'] ?? 0)).toBe(5000);
      // The key ledger is the order service's alone (the operator's role reads orders only).
      const owner = { ...pgLogin, user: ORDER_ROLE, password: readSecrets(runDir)?.orders };
      const rows = await sqlAs(owner, `SELECT count(*), count(DISTINCT k.key) FROM orders o JOIN order_idempotency_keys k ON k.order_id = o.id WHERE o.customer_id = '${prefix}';`, '-At', '-F,');
      expect(rows.stdout.trim()).toBe('5000,5000');
      const all = await sql(`SELECT count(*) FROM orders WHERE customer_id = '${prefix}';`, '-At');
      expect(all.stdout.trim(), 'no row without its key').toBe('5000');
      const created = JSON.parse(readFileSync(ids, 'utf8')) as number[];
      expect(created.length).toBe(summary.statuses['201']);
      const stored = await sql(`SELECT count(*) FROM orders WHERE customer_id = '${prefix}' AND id = ANY('{${created.join(',')}}'::int[]);`, '-At');
      expect(Number(stored.stdout.trim()), 'every 201 is a stored row').toBe(created.length);
      numbers['postgres kill -9 during 5000 POSTs at 64'] = { ...summary, rows: 5000, distinctKeys: 5000, every201Stored: true, durationMs: summary.endedAt - summary.startedAt };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis killed during GET load: no 5xx (the product service bypasses the cache), and the cache comes back', async () => {
    const { summary, killedAt } = await killDuringLoad<{ statuses: Record<string, number>; cache: Record<string, number>; endedAt: number; hung: number }>(
      `${process.execPath} ${load} gets ${base}/api/products 4000 16`,
      120_000,
      500,
      'redis',
    );
    expect(killedAt).toBeLessThan(summary.endedAt);
    expect(summary.statuses).toEqual({ 200: 4000 });
    expect(summary.cache.BYPASS ?? 0, 'some requests met Redis down').toBeGreaterThan(0);
    expect(summary.hung).toBe(0);
    expect(await until(async () => /X-Cache: HIT/i.test((await run(['curl', '-sS', '-i', `${base}/api/products`], { allowFail: true })).stdout), { timeoutMs: 15_000 })).toBe(true);
    await recordedShell(`curl -sS -i ${base}/api/products`);
    numbers['redis kill -9 during 4000 GETs at 16'] = summary;
  });
});

describe('a crash loop', () => {
  it('a service that keeps crashing is given up after the limit, status says so, and `ecomnet restart` brings it back', async () => {
    const service: Component = 'product';
    let kills = 0;
    for (; kills < 8; kills++) {
      // Each time it is back, it crashes again.
      const settled = await until(
        async () => {
          const r = await restartsOf(service);
          return r.healthy || r.gaveUp !== undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      expect(settled, 'back, or given up').toBe(true);
      if ((await restartsOf(service)).gaveUp) break;
      const kill = await ecomnet(['fault', 'kill', service], runDir.root);
      expect(kill.exitCode, kill.stderr).toBe(0);
    }
    const policy = readSupervision(runDir)!.policy;
    expect(kills, `given up within ${policy.maxRestarts + 1} crashes`).toBeLessThanOrEqual(policy.maxRestarts + 1);
    const shown = await ecomnet(['status'], runDir.root);
    expect(shown.stdout).toMatch(/\bproduct\b.*\(gave up\)\s+unhealthy/);
    // It stays down: no restart after the limit, and the gateway says so.
    await new Promise((r) => setTimeout(r, 1500));
    const down = reply(await recordedShell(getProducts));
    expect(down.code).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ error: 'product-service unavailable' });

    const restart = await ecomnet(['restart', service], runDir.root);
    expect(restart.exitCode, restart.stderr).toBe(0);
    const after = reply(await recordedShell(getProducts));
    expect(after.code).toBe(200);
    expect(await restartsOf(service)).toMatchObject({ healthy: true, gaveUp: undefined });
    numbers['crash loop product'] = { killsUntilGivenUp: kills, policy };
  });
});
