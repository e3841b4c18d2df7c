import { isRoot, run } from '../host/exec.ts';

/**
 * argv prefix that runs the rest as a user (name or uid) with that user's groups. setpriv execs
 * in place, so the pid a supervisor holds is the server's own and signals reach it directly.
 * no_new_privs: nothing the account runs regains privilege through a setuid or file-capability binary.
 */
export function setprivArgv(uid: string | number, gid: string | number, extra: string[] = []): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--no-new-privs', ...extra, '--'];
}

/** setpriv to `user` when given, nothing otherwise (not root: nobody to switch to). */
export function asUser(user: string | undefined): string[] {
  return user ? setprivArgv(user, user) : [];
}

/** The account a daemon should drop to: `preferred` when we are root, nobody to switch to otherwise. */
export function defaultRunAs(preferred: string): string | undefined {
  return isRoot ? preferred : undefined;
}

/** Create `dir` (mode 0700) owned by `user` when given, running through `prefix` (e.g. sudo). */
export async function makeOwnedDir(dir: string, user: string | undefined, prefix: string[] = []): Promise<void> {
  const owner = user ? ['-o', user, '-g', user] : [];
  await run([...prefix, 'install', '-d', '-m', '0700', ...owner, dir]);
}

/** Hand an existing file or directory to `user`. */
export async function chownTo(path: string, user: string, prefix: string[] = []): Promise<void> {
  await run([...prefix, 'chown', `${user}:${user}`, path]);
}
