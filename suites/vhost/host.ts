/** What the virtual-host tests compare on the real host before and after, and how they find a host's PID 1. */
import { readFileSync } from 'node:fs';
import { priv, run } from '../../src/host/exec.ts';
import { detectBackend } from '../../src/host/iptables.ts';
import { listLinks, listNamespaces } from '../../src/host/links.ts';

const backend = await detectBackend();

/** What a leak would change on the real host, read from it (iptables without counters, the real host's own mounts: PID 1's). */
export async function hostState() {
  const rules = (await priv([backend.save])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ''));
  return {
    namespaces: (await listNamespaces()).sort(),
    links: (await listLinks()).sort(),
    rules,
    forward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
    accounts: readFileSync('/etc/passwd', 'utf8'),
    mounts: (await priv(['cat', '/proc/1/mountinfo'])).stdout.split('\n').length,
  };
}

/** The PID 1s of the virtual hosts process `pid` made (their hostname, an argument of init.sh, names it). */
export async function initsOf(pid: number): Promise<string[]> {
  return (await run(['pgrep', '-f', `^bash \\S+/src/vhost/init\\.sh vhost-${pid}-`], { allowFail: true })).stdout.split('\n').filter(Boolean);
}
