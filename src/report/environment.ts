/** Allure's environment panel: what this run ran on, read once when Vitest loads its config. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendOf } from '../host/iptables.ts';

function output(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return 'unavailable';
  }
}

/** Read from node_modules directly: not every package exports its package.json. */
function version(pkg: string): string {
  try {
    const file = join(process.cwd(), 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function allureEnvironment(): Record<string, string> {
  const iptables = output('iptables', ['--version']);
  return {
    kernel: output('uname', ['-r']),
    iptables,
    'iptables backend': backendOf(iptables),
    node: process.version,
    vitest: version('vitest'),
    'allure-vitest': version('allure-vitest'),
    fastify: version('fastify'),
    execa: version('execa'),
    ci: process.env.CI ? 'yes' : 'no',
  };
}
