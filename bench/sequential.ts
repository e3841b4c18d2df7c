import { priv } from '../src/host/exec.ts';
import type { Backend } from '../src/host/iptables.ts';
import type { Plan } from '../src/plan/plan.ts';
import { comment, type Rule } from '../src/plan/rules.ts';

/**
 * The seed's way of applying the very same plan: one process per step. Derived from the Plan,
 * so the baseline can never drift from what our batched path applies.
 */

const words = (line: string) => line.split(/\s+/).filter(Boolean);

function ruleArgv(b: Backend, tag: string, r: Rule, verb: string[]): string[] {
  return [b.iptables, '-t', r.table, ...verb, ...r.match, '-m', 'comment', '--comment', comment(tag, r.id), ...r.target];
}

/** Inserted rules get positions 1..n per chain, as restoreText gives them, so the result is identical. */
function ruleCommands(plan: Plan, b: Backend): string[][] {
  const positions = new Map<string, number>();
  return plan.rules.map((r) => {
    if (!r.insert) return ruleArgv(b, plan.tag, r, ['-A', r.chain]);
    const key = `${r.table}/${r.chain}`;
    const pos = (positions.get(key) ?? 0) + 1;
    positions.set(key, pos);
    return ruleArgv(b, plan.tag, r, ['-I', r.chain, String(pos)]);
  });
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
    ...plan.rules.map((r) => ruleArgv(b, plan.tag, r, ['-D', r.chain])),
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
