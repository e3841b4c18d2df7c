import { Pool, type Dispatcher } from 'undici';
import { HttpError } from '../http.ts';

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path and query, already encoded. */
  path: string;
  /** Flat name/value list, as undici sends it without copying. */
  headers: string[];
  body?: Buffer;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

// Only these upstream headers mean something to the client; hop-by-hop ones must not be copied.
const PASSED_BACK = ['content-type', 'x-cache', 'idempotent-replayed'];

// A single Node process behind each pool gains nothing from more parallel connections than this;
// requests beyond it wait in the pool's queue rather than opening sockets.
const CONNECTIONS = 32;

/**
 * One keep-alive connection pool per backend service (no pipelining: a slow answer must not hold
 * up the ones behind it). The deadline is enforced by the pool's own timers, for connecting,
 * for the response headers and between body chunks, so a request costs no timer or AbortController
 * of its own.
 */
export class Upstream {
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  readonly #name: string;

  constructor(name: string, origin: string, timeoutMs: number) {
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#pool = new Pool(origin, {
      connections: CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: 10_000,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Refused or reset connections become 503, a missed deadline 504, always as HttpError. */
  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      this.#pool.dispatch(req, new Collector(resolve, (err) => reject(this.#failure(err))));
    });
  }

  #failure(err: Error): HttpError {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.includes('TIMEOUT')
      ? new HttpError(504, `${this.#name} did not answer within ${this.#timeoutMs} ms`)
      : new HttpError(503, `${this.#name} unavailable`);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Gathers one response in memory (upstream answers are small JSON), without a body stream. */
class Collector implements Dispatcher.DispatchHandler {
  readonly #resolve: (res: UpstreamResponse) => void;
  readonly #reject: (err: Error) => void;
  #status = 0;
  #headers: Record<string, string> = {};
  readonly #chunks: Buffer[] = [];

  constructor(resolve: (res: UpstreamResponse) => void, reject: (err: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    this.#status = status;
    for (const name of PASSED_BACK) {
      const value = headers[name];
      if (typeof value === 'string') this.#headers[name] = value;
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#reject(err);
  }
}
