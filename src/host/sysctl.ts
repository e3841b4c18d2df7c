import { priv } from './exec.ts';
import { readSysctl } from './facts.ts';

export async function setSysctls(pairs: { key: string; value: string }[]): Promise<void> {
  if (pairs.length) await priv(['sysctl', '-q', '-w', ...pairs.map((p) => `${p.key}=${p.value}`)]);
}

export { readSysctl };
