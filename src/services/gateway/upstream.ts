import { Pool } from 'undici';
import { HttpError } from '../http.ts';

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path and query, already encoded. */
  path: string;
  requestId: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

// Only these upstream headers mean something to the client; hop-by-hop ones must not be copied.
const PASSED_BACK = ['content-type', 'x-cache', 'idempotent-replayed'];

/** One keep-alive connection pool per backend service, with a hard deadline per request. */
export class Upstream {
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  readonly #name: string;

  constructor(name: string, origin: string, timeoutMs: number) {
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#pool = new Pool(origin, {
      connections: 64,
      keepAliveTimeout: 10_000,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Refused or reset connections become 503, a missed deadline 504, always as HttpError. */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
    try {
      const res = await this.#pool.request({
        method: req.method,
        path: req.path,
        headers: { ...req.headers, 'x-request-id': req.requestId },
        body: req.body,
        signal: deadline.signal,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const name of PASSED_BACK) {
        const value = res.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      return { status: res.statusCode, headers, body };
    } catch (err) {
      if (deadline.signal.aborted || isTimeout(err)) {
        throw new HttpError(504, `${this.#name} did not answer within ${this.#timeoutMs} ms`);
      }
      throw new HttpError(503, `${this.#name} unavailable`);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /TIMEOUT/.test(code);
}
