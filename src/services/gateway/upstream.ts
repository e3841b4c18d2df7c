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
const PASSED_BACK = ['content-type', 'x-cache', 'idempotent-replayed', 'www-authenticate'];

// A single Node process behind each pool gains nothing from more parallel connections than this;
// requests beyond it wait in the pool's queue (within their deadline) rather than opening sockets.
const CONNECTIONS = 32;

/**
 * One keep-alive connection pool per backend service, without pipelining (a slow answer must not
 * hold up the ones behind it), and a hard deadline per request that also covers waiting in the
 * pool's queue. undici's own headers/body timeouts are not used for it: they tick in 0.5 s steps.
 */
export class Upstream {
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  readonly #name: string;

  constructor(name: string, origin: string, timeoutMs: number) {
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 10_000, connect: { timeout: timeoutMs } });
  }

  /** Refused or reset connections become 503, a missed deadline 504, always as HttpError. */
  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(resolve, reject, this.#name, this.#timeoutMs);
      this.#pool.dispatch(req, exchange);
    });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/**
 * One request's life as an undici dispatch handler: the answer is gathered in memory (upstream
 * answers are small JSON), which spares the body stream, AbortController and async resource that
 * pool.request() would create for each request.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #resolve: (res: UpstreamResponse) => void;
  readonly #reject: (err: HttpError) => void;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  #controller: Dispatcher.DispatchController | undefined;
  #expired: HttpError | undefined;
  #settled = false;
  #status = 0;
  readonly #headers: Record<string, string> = {};
  readonly #chunks: Buffer[] = [];

  constructor(resolve: (res: UpstreamResponse) => void, reject: (err: HttpError) => void, name: string, timeoutMs: number) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => {
      this.#expired = this.#deadlineMissed();
      this.#fail(this.#expired);
      this.#controller?.abort(this.#expired);
    }, timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Still queued when the deadline passed: the client has had its 504, the upstream gets nothing.
    if (this.#expired) controller.abort(this.#expired);
    else this.#controller = controller;
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
    if (!this.#settle()) return;
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const code = (err as { code?: unknown }).code;
    const timedOut = typeof code === 'string' && code.includes('TIMEOUT');
    this.#fail(timedOut ? this.#deadlineMissed() : new HttpError(503, `${this.#name} unavailable`));
  }

  #deadlineMissed(): HttpError {
    return new HttpError(504, `${this.#name} did not answer within ${this.#timeoutMs} ms`);
  }

  #fail(err: HttpError): void {
    if (this.#settle()) this.#reject(err);
  }

  /** True the first time only: the deadline and the upstream's own outcome race. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    return true;
  }
}
