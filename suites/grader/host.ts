import { topology } from '../../src/topology/default.ts';
import { INHERIT_LOCK } from '../../src/host/lock.ts';
import { Platform } from '../../src/platform.ts';

/**
 * The grader's suites build labs of the seed's names, so ecomnet's own platform, whose suites
 * have run (this project's group comes after theirs), goes first. Under `npm test`'s lock, which
 * this worker and the commands it runs (`ecomnet down`) share.
 */
export function stopEcomnetPlatform(): Promise<void> {
  process.env[INHERIT_LOCK] = '1';
  // With its data: npm test's own (vitest.config.ts), which nothing after this needs.
  return Platform.from(topology).heldAs('grader suites').stop({ volumes: true });
}
