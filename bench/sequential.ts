import { priv } from '../src/host/exec.ts';
import type { Backend } from '../src/host/iptables.ts';
import type { Plan } from '../src/plan/plan.ts';
import { jumpArgs, jumpVerb, ruleArgs } from '../src/plan/rules.ts';

/**
 * The seed's way of applying the very same plan: one process per step. Derived from the Plan,
 * so the baseline can never drift from what our batched path applies.
 */

const words = (line: string) => line.split(/\s+/).filter(Boolean);

/** As restoreText orders them: our chains created, filled, then entered by their jumps. */
function ruleCommands(plan: Plan, b: Backend): string[][] {
  return [
    ...plan.jumps.map((j) => [b.iptables, '-t', j.table, '-N', j.chain]),
    ...plan.rules.map((r) => [b.iptables, '-t', r.table, '-A', r.chain, ...ruleArgs(plan.tag, r)]),
    ...plan.jumps.map((j) => [b.iptables, '-t', j.table, ...jumpVerb(j), ...jumpArgs(plan.tag, j)]),
  ];
}

export function sequentialUp(plan: Plan, b: Backend): string[][] {
  return [
    ...plan.hostBatch.map((l) => ['ip', ...words(l)]),
    ...plan.nsBatches.flatMap((nb) => nb.lines.map((l) => ['ip', 'netns', 'exec', nb.ns, 'ip', ...words(l)])),
    ...plan.sysctls.map((s) => ['sysctl', '-w', `${s.key}=${s.value}`]),
    ...ruleCommands(plan, b),
  ];
}

/** Full cleanup, so the baseline leaves the host as it found it (sysctls included). */
export function sequentialDown(plan: Plan, b: Backend): string[][] {
  return [
    ...plan.jumps.map((j) => [b.iptables, '-t', j.table, '-D', j.from, ...jumpArgs(plan.tag, j)]),
    ...plan.jumps.flatMap((j) => [
      [b.iptables, '-t', j.table, '-F', j.chain],
      [b.iptables, '-t', j.table, '-X', j.chain],
    ]),
    ...plan.namespaces.map((ns) => ['ip', 'netns', 'del', ns]),
    ...plan.bridges.map((br) => ['ip', 'link', 'del', br]),
    ...plan.sysctls.filter((s) => s.before !== null && s.before !== s.value).map((s) => ['sysctl', '-w', `${s.key}=${s.before}`]),
  ];
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Run the commands as the seed does, a shell script with one process per line (`sh -e` stops at
 * the first failure). A shell forks cheaper than Node's child_process, so the baseline isn't padded.
 */
export async function runScript(commands: string[][]): Promise<void> {
  await priv(['sh', '-e'], { input: `${commands.map((argv) => argv.map(quote).join(' ')).join('\n')}\n` });
}
