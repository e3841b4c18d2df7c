/**
 * The fault suite's load client, run where a person's client would be (inside a namespace, or on
 * the host) and recorded as a command like any other:
 *
 *   node suites/faults/load.ts orders URL COUNT CONCURRENCY PREFIX IDS_FILE
 *     POST COUNT orders, each with its own Idempotency-Key PREFIX-i, retried with the same key
 *     (after a refused connection, a 5xx or a 429) until it gets 201 or 200; the 201s' order ids
 *     go to IDS_FILE, so the suite can check every one is a stored row.
 *   node suites/faults/load.ts gets URL COUNT CONCURRENCY
 *     GET URL COUNT times, no retries: each answer's status and X-Cache is counted.
 *
 * Prints one JSON summary: counts per status, retries, slowest request, start and end times.
 */
import { writeFileSync } from 'node:fs';

const [mode, url, countArg, concurrencyArg, prefix, idsFile] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
if (!url || !(count > 0) || !(concurrency > 0) || (mode === 'orders' && !(prefix && idsFile)) || !['orders', 'gets'].includes(mode ?? '')) {
  process.stderr.write('usage: load.ts orders URL COUNT CONCURRENCY PREFIX IDS_FILE | gets URL COUNT CONCURRENCY\n');
  process.exit(2);
}

/** A request that neither answers nor fails within this long is a hung one: counted, never waited out. */
const HUNG_MS = 10_000;
const statuses: Record<string, number> = {};
const cache: Record<string, number> = {};
const seen5xx: Record<string, number> = {};
const created: number[] = [];
let retries = 0;
let networkErrors = 0;
let hung = 0;
let slowestMs = 0;
let next = 0;
const startedAt = Date.now();

const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed(init: RequestInit): Promise<Response | 'hung' | 'error'> {
  const t0 = performance.now();
  try {
    const res = await fetch(url!, { ...init, signal: AbortSignal.timeout(HUNG_MS) });
    return res;
  } catch (e) {
    return (e as Error).name === 'TimeoutError' ? 'hung' : 'error';
  } finally {
    slowestMs = Math.max(slowestMs, performance.now() - t0);
  }
}

async function postOrder(i: number): Promise<void> {
  const body = JSON.stringify({ customer_id: prefix, product_id: `prod-${(i % 3) + 1}`, quantity: (i % 5) + 1, total_price: 10 + (i % 7) });
  const headers = { 'content-type': 'application/json', 'idempotency-key': `${prefix}-${i}` };
  // Up to a minute of retries: PostgreSQL's crash recovery and the supervisor's backoff fit in it.
  for (let attempt = 1; attempt <= 300; attempt++) {
    const res = await timed({ method: 'POST', headers, body });
    if (res === 'hung') hung++;
    else if (res === 'error') networkErrors++;
    else {
      const text = await res.text();
      if (res.status === 201 || res.status === 200) {
        bump(statuses, String(res.status));
        if (res.status === 201) created.push((JSON.parse(text) as { order_id: number }).order_id);
        return;
      }
      if (res.status < 500 && res.status !== 429) {
        bump(statuses, String(res.status));
        return;
      }
      bump(seen5xx, `${res.status} ${text}`);
    }
    retries++;
    await sleep(Math.min(50 * attempt, 500));
  }
  bump(statuses, 'gave up');
}

async function get(): Promise<void> {
  const res = await timed({});
  if (typeof res === 'string') {
    bump(statuses, res);
    if (res === 'hung') hung++;
    return;
  }
  await res.arrayBuffer();
  bump(statuses, String(res.status));
  bump(cache, res.headers.get('x-cache') ?? 'none');
}

await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < count; i = next++) await (mode === 'orders' ? postOrder(i) : get());
  }),
);
if (mode === 'orders') writeFileSync(idsFile!, JSON.stringify(created));
process.stdout.write(
  `${JSON.stringify({ mode, url, requests: count, concurrency, statuses, ...(mode === 'orders' ? { retries, networkErrors, seen5xx, created: created.length } : { cache }), hung, slowestMs: Math.round(slowestMs), startedAt, endedAt: Date.now() })}\n`,
);
