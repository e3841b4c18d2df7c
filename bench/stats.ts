/** Small numeric helpers and the target record every section reports. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const sec = (x: number) => `${(x / 1000).toFixed(2)} s`;

/** A target as printed: what was asked, what was measured, met or not. Never an assertion. */
export interface Target {
  section: string;
  target: string;
  measured: string;
  met: boolean;
}

export function target(section: string, what: string, measured: string, met: boolean): Target {
  return { section, target: what, measured, met };
}
