/**
 * `ecomnet verify --two-hosts` as a person runs it: learner/day6/host.sh built in two virtual hosts
 * of their own (--build), a mutant of host A's copy (--build-a/--build-b), two hosts already up
 * named by their PID 1s (--hosts), each graded, printed, reported and given verify's exit code;
 * a command line it cannot read exits 3 with a message.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type OnTestFinishedHandler } from 'vitest';
import { twoHosts } from '../../src/topology/two-hosts.ts';
import { virtualHostsOf } from '../../src/vhost/hosts.ts';
import { repeatsNative } from '../../setup/mutation-setup.ts';

const root = join(import.meta.dirname, '..', '..');
const learner = join(root, 'learner', 'day6', 'host.sh');
/** The day-6 deliverables every build is judged on (the grader may add more). */
const day6Ids = ['6-overlay', '6-underlay', '6-mtu', '6-addresses'];

/** A test's own onTestFinished (concurrent tests must not share one). */
type Finished = (fn: OnTestFinishedHandler) => void;

/** The CLI run to its end: its exit code and output. */
function ecomnet(onTestFinished: Finished, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawn(process.execPath, [join(root, 'bin', 'ecomnet.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void cli.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  cli.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  cli.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => cli.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A directory of its own, gone after the test: in /var/tmp, which a virtual host sees (its /tmp is its own), so a script there finds its neighbours. */
function scratch(onTestFinished: Finished): string {
  const dir = mkdtempSync(join('/var/tmp', 'ecomnet-verify-day6-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

if (repeatsNative) console.log("verify-day6.test.ts: skipped: ECOMNET_DATA=containers changes only ecomnet's own platform, which the learner's two-host build does not use; the native run grades it");

describe.skipIf(repeatsNative).concurrent('ecomnet verify --two-hosts (course day 6, graded in virtual hosts)', () => {
  it('--build learner/day6/host.sh: exit 0, every day-6 deliverable passes, the HTML report has their evidence', async ({ onTestFinished }) => {
    const dir = scratch(onTestFinished);
    const reports = join(dir, 'reports');
    const r = await ecomnet(onTestFinished, ['verify', '--two-hosts', '--build', learner, '--reports', reports]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const id of day6Ids) expect(r.stdout).toMatch(new RegExp(`^✓ ${id} `, 'm'));
    expect(r.stdout).not.toMatch(/^✗/m);
    expect(r.stdout).toMatch(/^day 6: (\d+)\/\1 pass · verdict: pass$/m);
    const html = readFileSync(join(reports, 'day6.html'), 'utf8');
    for (const id of day6Ids) expect(html).toContain(`data-deliverable="${id}" data-status="pass"`);
    expect(html).not.toContain('data-status="fail"');
    // Evidence as the seed's report shows it: the command, its output, its exit code.
    expect(html).toMatch(
      /on host-a · exit 0<\/figcaption>\n<pre class="term"><span class="ps1">\$ <\/span><span class="cmdline">ip netns exec nginx-lb ping -n -c1 -W2 10\.0\.0\.50<\/span>\n[^<]*bytes from 10\.0\.0\.50/,
    );
    expect(html).toContain('tcpdump');
    expect(JSON.parse(readFileSync(join(reports, 'day6.json'), 'utf8')).verdict).toBe('pass');
    // Host A's build, run with its underlay address, logged beside the report.
    expect(readFileSync(join(reports, 'build-a.log'), 'utf8')).toContain(twoHosts.hosts!.list[0]!.underlay);
  }, 90_000);

  it('--build-a with dstport left out on host A: exit 1, the port mismatch diagnosed with its fix', async ({ onTestFinished }) => {
    // The learner's tree copied (host.sh uses its neighbours), host A's script mutated.
    const dir = scratch(onTestFinished);
    cpSync(join(root, 'learner'), join(dir, 'learner'), { recursive: true });
    const script = readFileSync(learner, 'utf8');
    const mutant = script.replaceAll(' dstport 4789', '');
    expect(mutant).not.toBe(script);
    const a = join(dir, 'learner', 'day6', 'a.sh');
    // Kept fast: host A's wait for host B's PostgreSQL, which the broken overlay never lets through, cut from 30 s to 3.
    writeFileSync(a, mutant.replace(/(wait_until "PostgreSQL on the other host[^\n]*?") 30 /, '$1 3 '));
    const r = await ecomnet(onTestFinished, ['verify', '--two-hosts', '--build-a', a, '--build-b', join(dir, 'learner', 'day6', 'host.sh'), '--reports', join(dir, 'reports')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^✗ 6-underlay .*\n {4}the overlay's datagrams are not UDP 4789 with VNI 100: .*UDP 8472/m);
    expect(r.stdout).toMatch(/✗ UDP port 8472 on host-a and 4789 on host-b.*\n {4}fix: +on host-a: .*dstport 4789/);
    expect(readFileSync(join(dir, 'reports', 'day6.html'), 'utf8')).toContain('data-diagnosis="vxlan-port-mismatch"');
  }, 90_000);

  it('--hosts PID_A,PID_B: two hosts already up, graded as they stand (--json)', async ({ onTestFinished }) => {
    const hosts = twoHosts.hosts!;
    const [ipA, ipB] = hosts.list.map((h) => h.underlay);
    const [ha, hb] = await virtualHostsOf(hosts);
    onTestFinished(() => Promise.all([ha!.destroy(), hb!.destroy()]).then(() => {}));
    const built = await Promise.all([
      ha!.exec(['bash', learner, 'a', ipA!, ipB!], { allowFail: true, timeoutMs: 60_000 }),
      hb!.exec(['bash', learner, 'b', ipB!, ipA!], { allowFail: true, timeoutMs: 60_000 }),
    ]);
    expect(
      built.map((b) => b.exitCode),
      built.map((b) => b.stderr).join('\n'),
    ).toEqual([0, 0]);
    const r = await ecomnet(onTestFinished, ['verify', '--two-hosts', '--hosts', `${ha!.pid},${hb!.pid}`, '--json', '--reports', join(scratch(onTestFinished), 'reports')]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { verdict: string; deliverables: { id: string; status: string }[] };
    expect(result.verdict).toBe('pass');
    expect(result.deliverables.map((d) => d.id)).toEqual(expect.arrayContaining(day6Ids));
    expect(result.deliverables.filter((d) => d.status !== 'pass')).toEqual([]);
  }, 90_000);

  it('a command line it cannot read exits 3 and says why', async ({ onTestFinished }) => {
    const cases: [string[], RegExp][] = [
      [['--two-hosts'], /what to grade: --build SCRIPT/],
      [['--two-hosts', '--hosts', 'abc,1'], /abc is not a pid/],
      [['--two-hosts', '--hosts', '12'], /two pids, host A's and host B's/],
      // This process is in this machine's network namespace: not a host of its own.
      [['--two-hosts', '--hosts', `${process.pid},${process.pid}`], new RegExp(`process ${process.pid} is in this machine's network namespace`)],
      [['--two-hosts', '--build-a', learner], /--build-a and --build-b go together/],
      [['--two-hosts', '--build', learner, '--only', '1.1'], /--only: not with --two-hosts/],
      [['--two-hosts', '--build', '/nonexistent/host.sh'], /no such build script/],
      [['--hosts', '1,2'], /with --two-hosts/],
    ];
    const results = await Promise.all(cases.map(([args]) => ecomnet(onTestFinished, ['verify', ...args])));
    for (const [i, [args, said]] of cases.entries()) {
      expect(results[i]!.code, args.join(' ')).toBe(3);
      expect(results[i]!.stderr, args.join(' ')).toMatch(said);
    }
  });
});
