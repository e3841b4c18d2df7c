/**
 * How a foreground command that undoes what it did (`ecomnet up`, `ecomnet observe`) is asked to
 * stop: SIGINT (Ctrl-C), SIGTERM, SIGHUP (the terminal closed), or npm gone from under `npm
 * start`. The first asks; none after it can end the process half way through its undoing, which
 * is what a default handler would do: each is answered, and the undoing goes on. (A signal to `npm start`'s whole process group arrives twice: npm
 * forwards its own copy, so even one Ctrl-C is answered once.)
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface StopRequest {
  /** Aborted by the first request; its reason is what asked (a signal's name, or "npm ended"). */
  readonly signal: AbortSignal;
  /** Resolves with the first request's reason. */
  readonly requested: Promise<string>;
  /** Stop listening (the process is about to exit). */
  dispose(): void;
}

export function stopRequest(say: (line: string) => void, underNpm = Boolean(process.env.npm_lifecycle_event)): StopRequest {
  const controller = new AbortController();
  let asked = false;
  let resolve: (why: string) => void = () => {};
  const requested = new Promise<string>((r) => (resolve = r));
  const ask = (why: string) => {
    if (!asked) {
      asked = true;
      controller.abort(why);
      resolve(why);
      return;
    }
    say(`ecomnet: already stopping (${why}): undoing everything of ours, wait for it to end`);
  };
  const handlers = STOP_SIGNALS.map((s) => [s, () => ask(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  // Under npm, npm is what the user holds: if it is killed without forwarding (SIGHUP, SIGKILL),
  // this process is handed to another parent and must not serve on unattended.
  const parent = process.ppid;
  const orphaned = underNpm ? setInterval(() => process.ppid !== parent && ask('npm ended'), 500) : undefined;
  orphaned?.unref();
  return {
    signal: controller.signal,
    requested,
    dispose() {
      for (const [s, h] of handlers) process.off(s, h);
      clearInterval(orphaned);
    },
  };
}
