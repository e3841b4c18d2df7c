import type { Judgement, RuleFault } from '../judge.ts';
import type { Fault } from './common.ts';

/** What each of the judge's cuts takes down, as requirement keys. */
export const CUT_KEYS: Record<RuleFault['cuts'][number], string> = {
  routing: 'forward',
  egress: 'egress',
  'dnat-path': 'dnat-path',
  'bridged-tcp': 'fwd-bridge',
  'bridged-icmp': 'fwd-bridge-icmp',
};

export function ruleFaults(j: Judgement): Fault[] {
  return j.faults.map((f) => ({ id: f.id, cause: f.cause, fix: f.fix, breaks: [...f.rules.map((r) => `rule:${r}`), ...f.cuts.map((c) => CUT_KEYS[c])] }));
}
