/**
 * Fresh clusters are copies of one template made once (not an initdb each; each the spare copy the
 * one before made, renamed into place), and a copy holds no other run's secret: the template has
 * no password at all, each copy's superuser has its own verifier. A template whose making was cut
 * short (killed mid-build) is never used.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBin } from '../../src/host/doctor.ts';
import { isRoot, run } from '../../src/host/exec.ts';
import { generatePassword } from '../../src/data/password.ts';
import { clusterFromTemplate, postgresTemplate, removePostgresTemplates, scramVerifier, templateName } from '../../src/data/postgres.ts';
import { waitFor } from '../../src/util/wait.ts';

/** Templates of this file's own, on a path only root can change (as the real one's is), removed at the end. */
const root = `/var/lib/ecomnet-template-test-${process.pid}`;
const bin = postgresBin();
const skip = !isRoot ? 'needs root (the template is root’s, its clusters the postgres account’s)' : !bin ? 'needs PostgreSQL’s server binaries' : '';
if (skip) console.log(`pg-template tests skipped: ${skip}`);

/** Every file under `dir`, read as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

/** The superuser's stored password, read in single-user mode (no listener); never run on the template, which stays as made. */
async function superuserVerifier(dataDir: string): Promise<string> {
  const out = await run(['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', `${bin}/postgres`, '--single', '-D', dataDir, 'postgres'], {
    input: "SELECT coalesce(rolpassword, 'none') AS p FROM pg_authid WHERE rolname = 'postgres';\n",
  });
  return /p = "([^"]*)"/.exec(out.stdout)?.[1] ?? `no answer: ${out.stdout}${out.stderr}`;
}

/** `pg_controldata`'s system identifier: initdb makes a new one, a copy keeps the template's. */
async function systemId(dataDir: string): Promise<string> {
  return /Database system identifier:\s+(\d+)/.exec((await run([`${bin}/pg_controldata`, dataDir])).stdout)?.[1] ?? 'none';
}

describe.skipIf(Boolean(skip))('PostgreSQL template', () => {
  beforeAll(() => run(['install', '-d', '-m', '0755', root]));
  afterAll(() => run(['rm', '-rf', root]));

  it('two fresh clusters are copies of one template, each with its own superuser verifier; the template has no password', async () => {
    const passwords = [generatePassword(), generatePassword()];
    const clusters = [join(root, 'a'), join(root, 'b')];
    const made = [];
    for (const [i, dataDir] of clusters.entries()) {
      const m = await clusterFromTemplate({ dataDir, password: passwords[i]!, templates: join(root, 'templates') });
      await m.nextSpare;
      made.push(m);
    }
    // The first a copy, which leaves a spare made behind it; the second that spare, renamed into place.
    expect(made.map((m) => [m.built, m.fromSpare])).toEqual([
      [true, false],
      [false, true],
    ]);
    const template = join(root, 'templates', await templateName());
    // The next spare is there again, root's, and as the template: no password.
    expect(statSync(`${template}.spare`).uid).toBe(0);
    // Not an initdb: the copies carry the template's identity.
    const ids = await Promise.all([template, ...clusters].map(systemId));
    expect(new Set(ids).size).toBe(1);
    expect(statSync(template).uid).toBe(0);
    for (const dataDir of clusters) expect(statSync(dataDir).uid).not.toBe(0);
    const verifiers = await Promise.all(clusters.map(superuserVerifier));
    expect(verifiers[0]).not.toBe(verifiers[1]);
    for (const [i, v] of verifiers.entries()) {
      // The stored verifier is the one of this cluster's own password (same salt, same iterations, same keys).
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(v) ?? [];
      expect(v).toBe(scramVerifier(passwords[i]!, Buffer.from(salt ?? '', 'base64'), Number(iterations)));
    }
    const files = [...filesUnder(template), ...filesUnder(`${template}.spare`)];
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const text = f.bytes.toString('latin1');
      expect(text.includes('SCRAM-SHA-256$'), f.path).toBe(false);
      for (const secret of [...passwords, ...verifiers]) expect(text.includes(secret), f.path).toBe(false);
    }
  }, 60_000);

  it('a template whose making was killed is not used: the next build makes a whole one', async () => {
    const templates = join(root, 'killed');
    const script = `import { postgresTemplate } from ${JSON.stringify(join(import.meta.dirname, '../../src/data/postgres.ts'))}; await postgresTemplate({ root: ${JSON.stringify(templates)} });`;
    const maker = spawn(process.execPath, ['--input-type=module', '-e', script], { detached: true, stdio: 'ignore' });
    const name = await templateName();
    // Killed (with its initdb) once initdb has begun writing into the build directory.
    await waitFor(
      () => {
        const build = readdirSync(templates).find((e) => e.startsWith(`.${name}.build.`));
        if (!build || !readdirSync(join(templates, build)).includes('global')) throw new Error('initdb has not begun');
      },
      { what: 'the template build', timeoutMs: 30_000, intervalMs: 5 },
    );
    process.kill(-maker.pid!, 'SIGKILL');
    await new Promise((r) => maker.once('close', r));
    expect(readdirSync(templates)).not.toContain(name);
    const again = await postgresTemplate({ root: templates });
    expect(again.built).toBe(true);
    // The half-made build is gone, and what is there is whole: a copy of it has the orders database.
    expect(readdirSync(templates)).toEqual([name]);
    const copy = join(root, 'from-rebuilt');
    await (await clusterFromTemplate({ dataDir: copy, password: generatePassword(), templates })).nextSpare;
    const databases = await run(['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', `${bin}/postgres`, '--single', '-D', copy, 'postgres'], {
      input: 'SELECT datname FROM pg_database ORDER BY 1;\n',
    });
    expect([...databases.stdout.matchAll(/datname = "([^"]+)"/g)].map((m) => m[1])).toEqual(['orders', 'postgres', 'template0', 'template1']);
    await removePostgresTemplates({ root: templates });
    expect(() => statSync(templates)).toThrow();
  }, 60_000);
});
