/**
 * When a crashed service is started again, as compose's `restart: on-failure[:max]` with
 * Docker's doubling delay: pure, so the supervisor's decisions are tested without a platform.
 */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more crash and the service stays down. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the first restart, doubled for each restart still inside the window. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/** 250 ms, 0.5 s, 1 s, 2 s, 4 s: a kill -9 is mended within a second, a crash loop stops after five tries in a minute. */
export const DEFAULT_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, initialDelayMs: 250, maxDelayMs: 8_000 };

export type Decision = { action: 'restart'; delayMs: number } | { action: 'give-up'; reason: string };

/** What to do about a service found dead at `now`, given when it was restarted before (ms since the epoch). */
export function decide(restartedAt: number[], now: number, p: RestartPolicy = DEFAULT_POLICY): Decision {
  const recent = restartedAt.filter((t) => now - t < p.windowMs).length;
  if (recent >= p.maxRestarts) return { action: 'give-up', reason: `crashed again after ${recent} restarts within ${p.windowMs / 1000} s` };
  return { action: 'restart', delayMs: Math.min(p.initialDelayMs * 2 ** recent, p.maxDelayMs) };
}
