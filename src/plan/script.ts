import type { Plan } from './plan.ts';

/** The plan as the shell script a person would type, in the seed's order. */
export function planScript(plan: Plan): string {
  const out = ['#!/bin/sh', '# ecomnet up --dry-run: what `up` does, one command per line', 'set -e', ''];
  out.push('# Task 1.1: network namespaces');
  out.push(...plan.hostBatch.filter((l) => l.startsWith('netns ')).map((l) => `ip ${l}`), '');
  out.push('# Task 1.2: bridges and veth pairs (host side)');
  out.push(...plan.hostBatch.filter((l) => !l.startsWith('netns ')).map((l) => `ip ${l}`), '');
  out.push('# Task 1.2: inside each namespace');
  for (const b of plan.nsBatches) out.push(...b.lines.map((l) => `ip -n ${b.ns} ${l}`));
  out.push('', '# Task 1.3: forwarding (and 127.0.0.1 on the bridge, for curl localhost:8080)');
  out.push(...plan.sysctls.map((s) => `sysctl -w ${s.key}=${s.value}`), '');
  out.push('# Tasks 1.3 and 1.4: NAT, port forward and FORWARD accepts, each rule tagged and explained');
  for (const r of plan.rules) out.push(`#   ${plan.tag}:${r.id}: ${r.why}`);
  out.push("iptables-restore --noflush <<'EOF'", plan.restore.trimEnd(), 'EOF', '');
  return out.join('\n');
}
