import { priv } from './exec.ts';

export async function setSysctls(pairs: { key: string; value: string }[]): Promise<void> {
  if (pairs.length) await priv(['sysctl', '-q', '-w', ...pairs.map((p) => `${p.key}=${p.value}`)]);
}
