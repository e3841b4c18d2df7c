/**
 * The one polling loop: call `probe` until it returns instead of throwing, or until the
 * deadline, when the error carries what was awaited and the probe's last complaint.
 */
export async function waitFor<T>(probe: () => Promise<T> | T, o: { what: string; timeoutMs: number; intervalMs?: number }): Promise<T> {
  const giveUpAt = Date.now() + o.timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() >= giveUpAt) throw new Error(`${o.what} not ready after ${o.timeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}

/** For a probe that is a condition: throws (so waitFor tries again) while it does not hold. */
export function check(holds: boolean, why: string): void {
  if (!holds) throw new Error(why);
}

/** Whether `holds` came true within the time: for waits that go on either way (then escalate). */
export function until(holds: () => Promise<boolean> | boolean, o: { timeoutMs: number; intervalMs?: number }): Promise<boolean> {
  return waitFor(async () => check(await holds(), 'not yet'), { what: 'condition', ...o }).then(
    () => true,
    () => false,
  );
}
