/**
 * A burst of known size through the port forward, in one curl process: each request on its own
 * connection (`Connection: close`), so the client's side opens exactly one connection per request.
 * curl writes one line per request (`-w` to its stderr, the bodies are dropped); `uniq -c` counts
 * the identical ones, so the evidence stays a few lines whatever the burst's size.
 */

export interface BurstRequest {
  method: 'GET' | 'POST';
  path: string;
  count: number;
  /** A JSON body (POST). */
  body?: unknown;
}

const WRITE_OUT = '%{stderr}%{method} %{url_effective} %{http_code} %{size_request} %{size_upload} %{size_header} %{size_download}\\n';

/** The curl command line (after `ip netns exec NS`): one --next group per kind of request, the URL repeated `count` times. */
export function burstCurl(base: string, requests: BurstRequest[]): string {
  const groups = requests.map((r) => {
    const body = r.body === undefined ? '' : ` -H 'Content-Type: application/json' -d '${JSON.stringify(r.body)}'`;
    if (r.method === 'GET' && body) throw new Error('a GET of the burst carries no body');
    if (r.method === 'POST' && !body) throw new Error('a POST of the burst needs a body');
    return `-sS -m 10 -H 'Connection: close'${body} -w '${WRITE_OUT}' $(printf '${base}${r.path} %.0s' $(seq ${r.count}))`;
  });
  return `curl ${groups.join(' --next ')} 2>&1 >/dev/null | sort | uniq -c`;
}

export interface BurstOutcome {
  requests: { method: string; path: string; count: number; statuses: Record<string, number> }[];
  requestBytes: number;
  responseBytes: number;
  /** Lines that are not a request's (curl's own errors). */
  errors: string[];
}

/** What `uniq -c` printed: `COUNT METHOD URL STATUS SENT-HEAD SENT-BODY GOT-HEAD GOT-BODY`, summed per method and path. */
export function parseBurst(output: string): BurstOutcome {
  const out: BurstOutcome = { requests: [], requestBytes: 0, responseBytes: 0, errors: [] };
  for (const line of output.split('\n').filter((l) => l.trim())) {
    const m = /^\s*(\d+) (GET|POST) \S+?:\/\/[^/\s]+(\/\S*) (\d{3}) (\d+) (\d+) (\d+) (\d+)$/.exec(line);
    if (!m) {
      out.errors.push(line.trim());
      continue;
    }
    const [, n, method, path, status, head, body, gotHead, gotBody] = m;
    const count = Number(n);
    let entry = out.requests.find((r) => r.method === method && r.path === path);
    if (!entry) out.requests.push((entry = { method: method!, path: path!, count: 0, statuses: {} }));
    entry.count += count;
    entry.statuses[status!] = (entry.statuses[status!] ?? 0) + count;
    out.requestBytes += count * (Number(head) + Number(body));
    out.responseBytes += count * (Number(gotHead) + Number(gotBody));
  }
  return out;
}
