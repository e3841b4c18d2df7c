/**
 * The grader as run inside a virtual host (src/grader/build.ts starts it there): grades the build
 * that stands in that host, from the world behind its uplink, and prints the result as JSON on
 * its standard output for the process that writes the reports. Progress goes to standard error.
 * Usage: node src/grader/inside.ts '{"only": "1.2", "netns": "...", "uplink": "eth0", "credentials": {...}}'
 */
import '../../bin/compile-cache.js';
import { grade } from './grade.ts';
import type { Credentials } from './logins.ts';

interface InsideOptions {
  only?: string;
  /** The build script that ran: what it started where. */
  script?: string;
  /** The reachability matrix for the report (`verify --build`); a class leaves it out. */
  matrix?: boolean;
  netns: string;
  uplink: string;
  credentials?: Credentials;
}

const o = JSON.parse(process.argv[2] ?? '{}') as InsideOptions;
const result = await grade({
  ...(o.only ? { only: o.only } : {}),
  ...(o.credentials ? { credentials: o.credentials } : {}),
  ...(o.script ? { build: o.script } : {}),
  matrix: o.matrix !== false,
  outside: { kind: 'vhost', netns: o.netns, uplink: o.uplink },
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
