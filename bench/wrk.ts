import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../src/host/doctor.ts';
import { run } from '../src/host/exec.ts';

/**
 * wrk as the load generator: written in C with its own event loop, it takes far less of the two
 * cores than a Node client would, so what is measured is the platform rather than the client.
 */

export const INSTALL_HINT = 'apt-get update && apt-get install -y wrk';

export function wrkPath(): string | undefined {
  return which('wrk');
}

export interface Load {
  connections: number;
  seconds: number;
  /**
   * Every request sent is also answered and counted by status: each thread stops sending at the
   * deadline, then wrk runs DRAIN_S longer so requests in flight finish instead of being cut off
   * (a plain `-d` run abandons up to one request per connection, which the server still executes).
   * Costs two Lua calls per request, so only where exact counts matter.
   */
  exact?: boolean;
  post?: { body: string; contentType: string };
}

const DRAIN_S = 3;

export interface WrkResult {
  url: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors plus answers that were not 2xx/3xx. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  statuses?: Record<string, number>;
}

const luaString = (s: string) => JSON.stringify(s);

/** done() prints one JSON line; per-thread status counts are gathered through setup()'s thread handles. */
function script(load: Load): string {
  const lines: string[] = [];
  if (load.post) {
    lines.push('wrk.method = "POST"', `wrk.body = ${luaString(load.post.body)}`, `wrk.headers["Content-Type"] = ${luaString(load.post.contentType)}`);
  }
  lines.push('local threads = {}', 'function setup(thread) table.insert(threads, thread) end', 'function init(args) statuses = {} end');
  if (load.exact) {
    lines.push(
      // LuaJIT's FFI gives a monotonic clock with sub-second resolution (os.time has whole seconds).
      'local ffi = require("ffi")',
      'ffi.cdef[[ typedef struct { long s; long ns; } bench_ts; int clock_gettime(int clk, bench_ts *tp); ]]',
      'local ts = ffi.new("bench_ts")',
      'local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.s) + tonumber(ts.ns) / 1e9 end',
      `local stop_at = now() + ${load.seconds}`,
      'function delay() if now() >= stop_at then return 3600000 end return 0 end',
      'function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end',
    );
  }
  lines.push(
    'function done(summary, latency, requests)',
    '  local counts = {}',
    '  for _, t in ipairs(threads) do',
    '    for k, v in pairs(t:get("statuses")) do counts[tostring(k)] = (counts[tostring(k)] or 0) + v end',
    '  end',
    '  local parts = {}',
    '  for k, v in pairs(counts) do table.insert(parts, string.format("\\"%s\\":%d", k, v)) end',
    '  local e = summary.errors',
    '  io.write(string.format("BENCH_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%.0f,\\"p99_us\\":%.0f,' +
      '\\"errors\\":{\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"timeout\\":%d,\\"status\\":%d},\\"statuses\\":{%s}}\\n",',
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),',
    '    e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ",")))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

interface Raw {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  errors: WrkResult['errors'];
  statuses: Record<string, number>;
}

/** One bounded load run: `seconds` long, `connections` kept open, two threads for two cores. */
export async function wrk(url: string, load: Load): Promise<WrkResult> {
  const bin = wrkPath();
  if (!bin) throw new Error(`wrk is not installed: ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'ecomnet-bench-'));
  const lua = join(dir, 'load.lua');
  writeFileSync(lua, script(load));
  try {
    const duration = load.seconds + (load.exact ? DRAIN_S : 0);
    const argv = [bin, '-t2', `-c${load.connections}`, `-d${duration}s`, '--timeout', '5s', '-s', lua, url];
    const r = await run(argv, { timeoutMs: (duration + 30) * 1000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) throw new Error(`wrk printed no result:\n${r.stdout}${r.stderr}`);
    const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as Raw;
    return {
      url,
      requests: raw.requests,
      // An exact run sends for `seconds` only; the drain after it is idle time.
      rps: raw.requests / (load.exact ? load.seconds : raw.duration_us / 1e6),
      p50Ms: raw.p50_us / 1000,
      p99Ms: raw.p99_us / 1000,
      errors: raw.errors,
      ...(load.exact ? { statuses: raw.statuses } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
