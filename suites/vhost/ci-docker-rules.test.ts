/**
 * Issue 21, finding 10: .ci/run takes back what the dockerd it started added to iptables (ci/lib.sh
 * undo_docker_rules), and nothing else: a rule another process added before or meanwhile stays,
 * where the old full `iptables-restore` of the first snapshot erased it. In a virtual host, whose
 * iptables are its own.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const lib = join(import.meta.dirname, '..', '..', 'ci', 'lib.sh');
const save = "iptables-save | grep -v '^#'";
/** What dockerd adds when it starts: chains of its own, jumps to them, a NAT rule, FORWARD's policy DROP. */
const DOCKERD = `iptables -N DOCKER && iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN
iptables -A FORWARD -j DOCKER-USER && iptables -A FORWARD -o docker0 -j DOCKER && iptables -P FORWARD DROP
iptables -t nat -N DOCKER && iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`;
/** Another process's rules, added while the run goes on (one with a comment a shell would run). */
const MEANWHILE = [`FORWARD -m comment --comment "someone's; touch /tmp/pwned" -j ACCEPT`, '-t nat POSTROUTING -s 10.9.0.0/16 -j MASQUERADE'];
const add = (r: string) => (r.startsWith('-t nat ') ? `iptables -t nat -A ${r.slice(7)}` : `iptables -A ${r}`);
const del = (r: string) => add(r).replace(' -A ', ' -D ');

describe("undo_docker_rules (.ci/run's stop of its dockerd)", () => {
  it("removes dockerd's rules, chains and policy, and keeps every rule others added before or since", async () => {
    const vh = await VirtualHost.create({ world: false, label: 'ci-rules' });
    onTestFinished(() => vh.destroy());
    const script = `set -e
. ${lib}
iptables -A INPUT -s 192.0.2.1 -j DROP && iptables -t nat -A POSTROUTING -s 192.0.2.0/24 -j ACCEPT
${save} >/tmp/before
iptables-save >/tmp/iptables.before
${DOCKERD}
iptables-save >/tmp/iptables.docker
${MEANWHILE.map(add).join('\n')}
undo_docker_rules /tmp/iptables.before /tmp/iptables.docker
${save} >/tmp/after
test ! -e /tmp/pwned
${MEANWHILE.map(del).join('\n')}
${save} >/tmp/after-without-theirs
diff /tmp/before /tmp/after-without-theirs && echo "as before, with theirs"`;
    const r = await vh.exec(['bash', '-c', script], { allowFail: true });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('as before, with theirs');
  });
});
