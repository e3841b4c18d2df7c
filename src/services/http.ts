import { randomUUID } from 'node:crypto';
import { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';

/** Largest request body any service accepts; the gateway and the order service must agree. */
export const MAX_BODY_BYTES = 16 * 1024;

/** An error that already knows its HTTP status; its message is safe to show the client. */
export class HttpError extends Error {
  readonly statusCode: number;
  /** Response headers the status calls for (a 401's WWW-Authenticate). */
  readonly headers: Record<string, string>;
  constructor(statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

// A caller-supplied id is echoed into headers and logs, so only a conservative shape is kept.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keep a well-formed X-Request-Id from the client, otherwise mint one. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** A request slower than this is logged whatever its status. */
const SLOW_REQUEST_MS = 1000;

/**
 * Fastify logs two info lines per request, which under load costs more than the request itself.
 * Instead: one line per finished request, at warn for a 5xx (relayed ones too) or a slow answer
 * and at debug otherwise, so LOG_LEVEL=debug restores a per-request access log. The causes of
 * errors are logged by the error handler; lifecycle lines (listening, shutdown) are unaffected.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime, err: error ?? undefined };
    if (error || reply.statusCode >= 500) request.log.warn(line, 'request failed');
    else if (line.responseTime > SLOW_REQUEST_MS) request.log.warn(line, 'slow request');
    else request.log.debug(line, 'request completed');
  }
}

/** Fastify options every service shares: request ids, body limit, logging. */
export function serverOptions(logger: FastifyServerOptions['logger'] = false): FastifyServerOptions {
  return {
    logger,
    logController: new RequestLog(),
    bodyLimit: MAX_BODY_BYTES,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Router-level rejections (malformed percent-encoding, over-long params) bypass the error
    // handler, so they get the same JSON shape here.
    frameworkErrors: (err, request, reply) => {
      (reply as FastifyReply)
        .code(err.statusCode ?? 400)
        .header('x-request-id', request.id)
        .send({ error: err.message });
    },
  };
}

/**
 * Every reply is JSON `{ "error": ... }` for failures and carries X-Request-Id.
 * Client errors raised by Fastify itself (bad JSON, 413, 415) keep their 4xx status;
 * anything unexpected becomes a logged 500 without internals leaking to the client.
 */
export function installHttpConventions(app: FastifyInstance, classify?: (err: unknown) => HttpError | undefined): void {
  // Callback style: an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'Not found' }));
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const known = err instanceof HttpError ? err : classify?.(err);
    if (known) {
      if (known.statusCode >= 500) request.log.warn({ err }, known.message);
      return reply.code(known.statusCode).headers(known.headers).send({ error: known.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: 'Internal server error' });
  });
}
