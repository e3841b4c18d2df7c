/**
 * A crash test's hook: with ECOMNET_PAUSE_AFTER=<point> the process stops itself (SIGSTOP) at
 * that point, so the test can observe the half-built host and kill -9 exactly there instead
 * of guessing a delay.
 * Points: `links` (namespaces, bridges and veths exist), `rules` (the iptables rules too),
 * `stopping` (a foreground `up` about to remove the platform), `observe-undo` (an observer about
 * to undo what it changed in the namespaces).
 */
export function pausePoint(point: string): void {
  if (process.env.ECOMNET_PAUSE_AFTER === point) process.kill(process.pid, 'SIGSTOP');
}
