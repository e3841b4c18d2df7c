/**
 * The grader as run inside a virtual host (src/grader/build.ts starts it there): grades the build
 * that stands in that host, from the world behind its uplink, and prints the result as JSON on
 * its standard output for the process that writes the reports. Progress goes to standard error.
 * Usage: node src/grader/inside.ts '{"only": "1.2", "netns": "...", "uplink": "eth0", "credentials": {...}}'
 * With `{"discover": true}` it only reads the host (discover.ts) and prints the model with the
 * reads, for a grader that judges a lab spread over several hosts (split.ts); with `"handshake":
 * true` too, the logins ecomnet's platform on this host hands over (src/runtime/handshake.ts).
 */
import '../../bin/compile-cache.js';
import type { Captured } from './evidence.ts';
import { discover } from './discover.ts';
import { grade } from './grade.ts';
import { runDirAt } from '../host/run-dir.ts';
import type { Credentials } from './logins.ts';

/** Only read the host (split.ts), with ecomnet's handed logins when asked. */
interface DiscoverOptions {
  discover: true;
  handshake?: boolean;
}

interface GradeInsideOptions {
  discover?: false;
  only?: string;
  /** The build script that ran: what it started where. */
  script?: string;
  /** The reachability matrix for the report (`verify --build`); a class leaves it out. */
  matrix?: boolean;
  netns: string;
  uplink: string;
  credentials?: Credentials;
}

const o = JSON.parse(process.argv[2] ?? '{}') as DiscoverOptions | GradeInsideOptions;
if (o.discover) {
  const reads: Captured[] = [];
  const model = await discover((c) => reads.push(c));
  const handed = o.handshake ? (await import('../runtime/handshake.ts')).handshakeLogins(runDirAt(), model) : undefined;
  process.stdout.write(`${JSON.stringify({ model, reads, ...(handed ? { handed } : {}) })}\n`);
} else {
  const result = await grade({
    ...(o.only ? { only: o.only } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.script ? { build: o.script } : {}),
    matrix: o.matrix !== false,
    outside: { kind: 'vhost', netns: o.netns, uplink: o.uplink },
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
