/** What the virtual-host tests compare on the real host before and after, and how they find a host's PID 1. */
import { readFileSync } from 'node:fs';
import { priv, run } from '../../src/host/exec.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { listLinks, listNamespaces } from '../../src/host/links.ts';

const backend = await detectBackend();

/**
 * Docker's own work, which other suites start and stop while these run (containers mode): a
 * container's veth (`veth` and 7 hex digits), its rules, its overlay and netns mounts. No virtual
 * host makes any of it on the real host, so leaving it out hides no leak.
 */
const dockers = (l: string) => /^veth[0-9a-f]{7}$/.test(l);
const dockerRule = (l: string) => /docker/i.test(l);

/** What a leak would change on the real host, read from it (iptables without counters; of the real host's own mounts, PID 1's, those a virtual host's filesystems would be: all named vhost-*). */
export async function hostState() {
  const rules = (await priv([backend.save])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#') && !dockerRule(l))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ''));
  return {
    namespaces: (await listNamespaces()).sort(),
    links: (await listLinks()).filter((l) => !dockers(l)).sort(),
    rules,
    forward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
    accounts: readFileSync('/etc/passwd', 'utf8'),
    mounts: (await priv(['cat', '/proc/1/mountinfo'])).stdout.split('\n').filter((l) => / vhost-/.test(l)),
  };
}

/** The PID 1s of the virtual hosts process `pid` made (their hostname, an argument of init.sh, names it). */
export async function initsOf(pid: number): Promise<string[]> {
  return (await run(['pgrep', '-f', `^bash \\S+/src/vhost/init\\.sh vhost-${pid}-`], { allowFail: true })).stdout.split('\n').filter(Boolean);
}
