import type { Plan } from './plan.ts';
import { comment, JUMP_ID } from './rules.ts';

/** The plan as the shell script a person would type, in the seed's order. */
export function planScript(plan: Plan): string {
  const out = ['#!/bin/sh', '# ecomnet up --dry-run: what `up` does, one command per line', 'set -e', ''];
  out.push('# Task 1.1: network namespaces');
  out.push(...plan.hostBatch.filter((l) => l.startsWith('netns ')).map((l) => `ip ${l}`), '');
  out.push('# Task 1.2: bridges and veth pairs (host side)');
  out.push(...plan.hostBatch.filter((l) => !l.startsWith('netns ')).map((l) => `ip ${l}`), '');
  out.push('# Task 1.2: inside each namespace');
  for (const b of plan.nsBatches) out.push(...b.lines.map((l) => `ip -n ${b.ns} ${l}`));
  out.push('', '# Task 1.3: forwarding (and 127.0.0.1 on the bridge, for curl localhost:8080; guarded in our INPUT chain)');
  out.push(...plan.sysctls.map((s) => `sysctl -w ${s.key}=${s.value}`), '');
  out.push("# Tasks 1.3 and 1.4: NAT, port forward and FORWARD filtering, and the host's INPUT from the bridge, in chains of our own, each entered by one jump;");
  out.push('# every line tagged and explained');
  for (const j of plan.jumps) {
    out.push(`#   ${comment(plan.tag, JUMP_ID)} ${j.from} -> ${j.chain}: ${j.why}`);
    for (const r of plan.rules.filter((x) => x.chain === j.chain)) out.push(`#     ${comment(plan.tag, r.id)}: ${r.why}`);
  }
  out.push("iptables-restore --noflush <<'EOF'", plan.restore.trimEnd(), 'EOF', '');
  if (plan.firewalls.length) {
    out.push('# East-west, deny by default: in each namespace, a chain of ours first in its INPUT lets through only');
    out.push("# the topology's flows (and ICMP, loopback, the host on the service port, replies); it goes with the namespace. IPv6, which the");
    out.push('# lab does not use and the chain does not see, is off there; conntrack accounting is on (ecomnet observe counts bytes per connection)');
    for (const f of plan.firewalls) {
      if (f.sysctls.length) out.push(`ip netns exec ${f.ns} sysctl -w ${f.sysctls.map((s) => `${s.key}=${s.value}`).join(' ')}`);
      out.push(...f.rules.map((r) => `#   ${f.ns} ${comment(plan.tag, r.id)}: ${r.why}`));
      out.push(`ip netns exec ${f.ns} iptables-restore --noflush <<'EOF'`, f.restore.trimEnd(), 'EOF');
    }
    out.push('');
  }
  return out.join('\n');
}
