import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export const LOOPBACK = '127.0.0.1';

/** Listen on an ephemeral loopback port and return the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: LOOPBACK, port: 0 });
  const { port } = app.server.address() as { port: number };
  return `http://${LOOPBACK}:${port}`;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A real HTTP upstream that records each request and answers with `respond`. */
export async function stubUpstream(respond: (req: Recorded, res: ServerResponse) => void) {
  const requests: Recorded[] = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      respond(rec, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${LOOPBACK}:${port}`,
    requests,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A TCP server that accepts connections and never answers: the "hanging" dependency. */
export async function hangingServer() {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://${LOOPBACK}:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
