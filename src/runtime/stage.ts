import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { priv } from '../host/exec.ts';
import type { Progress } from '../host/network.ts';
import type { RunDir } from '../host/run-dir.ts';
import { dropTo } from './account.ts';
import type { Account } from '../host/accounts.ts';

/**
 * What node runs: the services' entry point. Node itself need not be readable by the accounts:
 * setpriv execs it still privileged, and the exec drops every capability.
 */
export interface Code {
  main: string;
}

const checkout = fileURLToPath(new URL('../../', import.meta.url));

/** The packages src/services imports; their dependencies come with them. */
const SERVICE_PACKAGES = ['fastify', 'pg', 'ioredis', 'undici'];

/** Where the code is, relative to a checkout or a staged copy. */
const MAIN = 'src/services/main.ts';

/** The code as it is in a checkout, or in a staged copy. */
const codeIn = (root: string): Code => ({ main: join(root, MAIN) });

export const inCheckout: Code = codeIn(checkout);

/** The code a run uses: its staged copy when `up` made one (restarts use the same), else the checkout. */
export const codeOf = (dir: RunDir): Code => (existsSync(join(dir.stage, MAIN)) ? codeIn(dir.stage) : inCheckout);

/**
 * The packages the services import and everything they depend on, as directories of the
 * checkout's node_modules (npm hoists them there; a nested one comes with its parent).
 */
export function servicePackages(root = checkout): string[] {
  const found = new Set<string>();
  const queue = [...SERVICE_PACKAGES];
  while (queue.length) {
    const name = queue.pop()!;
    const manifest = join(root, 'node_modules', name, 'package.json');
    if (found.has(name) || !existsSync(manifest)) continue;
    found.add(name);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: object; optionalDependencies?: object };
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
  }
  return [...found].sort().map((n) => join('node_modules', n));
}

/** Whether `a` can read what the services load (as that account: access(2) checks the real uid, which setpriv has set). */
async function canRun(a: Account, code: Code, root: string): Promise<boolean> {
  const files = [code.main, ...SERVICE_PACKAGES.map((p) => join(root, 'node_modules', p, 'package.json'))];
  const r = await priv([...dropTo(a), process.execPath, '-e', 'for (const f of process.argv.slice(1)) require("fs").accessSync(f, require("fs").constants.R_OK)', ...files], { allowFail: true });
  return r.exitCode === 0;
}

/**
 * The code the services run, readable by `a` without any capability: the checkout when the
 * account can read it, else a copy into the run directory, owned by root and readable by all
 * (a checkout under /root or in a 0700 home).
 */
export async function runnableCode(dir: RunDir, a: Account, progress: Progress, from = checkout): Promise<Code> {
  await priv(['rm', '-rf', dir.stage]);
  if (await canRun(a, codeIn(from), from)) return codeIn(from);
  const t0 = performance.now();
  await priv(['install', '-d', '-m', '0755', '-o', '0', '-g', '0', dir.stage]);
  await priv(['env', '-C', from, 'cp', '-R', '--parents', 'package.json', 'src/services', ...servicePackages(from), dir.stage]);
  // Files copied keep their modes, which a umask of 077 makes private: readable by all, writable by root.
  await priv(['chmod', '-R', 'u=rwX,go=rX', dir.stage]);
  const code = codeIn(dir.stage);
  if (!(await canRun(a, code, dir.stage))) throw new Error(`${a.name} cannot read the services' code even from the copy in ${dir.stage}`);
  progress(`services run from a copy in ${dir.stage} (${a.name} cannot read ${from})`, performance.now() - t0);
  return code;
}
