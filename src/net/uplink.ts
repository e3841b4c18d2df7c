/**
 * The host's real uplink, its way to the outside (what MASQUERADE's `-o`/`! -o` and the test
 * guard name): the device of its default route. The one finder for ecomnet's test guard
 * (src/host/facts.ts) and the grader's judgement of egress (src/grader/judge.ts), each over the
 * routes it has already read; it depends on neither, so the grader stays free of ecomnet's plan.
 */

/** A route as `ip -j route` and the grader's model give it; only a default route's device and metric count. */
export interface UplinkRoute {
  dst: string;
  dev?: string;
  metric?: number;
}

/**
 * The device of the preferred default route: the lowest metric, as the kernel chooses (ties keep
 * the listed order, the kernel's). Passed over: a default by one of `notVia` (a lab bridge leads
 * back into the lab, not out), and one without a device (unreachable, blackhole). Undefined when
 * nothing is left: the host has no way out.
 */
export function uplinkOf(routes: readonly UplinkRoute[], notVia: Iterable<string> = []): string | undefined {
  const lab = new Set(notVia);
  const ways = routes.filter((r) => r.dst === 'default' && r.dev !== undefined && !lab.has(r.dev));
  // A stable sort: among equal metrics the first listed stays first.
  return ways.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0]?.dev;
}
