import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parseServiceConfig, type ServiceConfig } from './config.ts';
import { startService } from './start.ts';

/** Usage: node src/services/main.ts <config.json>. JSON log lines on stdout; SIGTERM/SIGINT stop it with exit 0. */
const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: node src/services/main.ts <config.json>\n');
  process.exit(2);
}

function fail(msg: string, err: unknown): never {
  process.stdout.write(`${JSON.stringify({ level: 60, time: Date.now(), msg, err: String(err) })}\n`);
  process.exit(1);
}

let app: FastifyInstance | undefined;
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Still waiting for a dependency: there is nothing listening yet, so just leave.
  if (!app) process.exit(0);
  app.log.info({ signal }, 'shutting down');
  // A close that hangs must not keep the supervisor waiting forever.
  setTimeout(() => process.exit(1), 10_000).unref();
  await app.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

let config: ServiceConfig;
try {
  config = parseServiceConfig(JSON.parse(readFileSync(path, 'utf8')));
} catch (err) {
  // JSON.parse quotes the offending text, which could be a password: report only the kind of error.
  fail('invalid config file', err instanceof SyntaxError ? 'not valid JSON' : err);
}
// The config's URLs carry credentials, so it is never logged; pino's request serializer omits headers.
app = await startService(config, {
  logger: { level: process.env.LOG_LEVEL ?? 'info', base: { service: config.service, pid: process.pid } },
}).catch((err: unknown) => fail('failed to start', err));
