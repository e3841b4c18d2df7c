import { topology } from '../../fixtures/topology.ts';
import { Platform } from '../../src/platform.ts';

/**
 * The grader's suites build labs of the seed's names, so ecomnet's own platform, whose suites
 * have run (this project's group comes after theirs), goes first. Under `npm test`'s lock, which
 * the run's workers share.
 */
export function stopEcomnetPlatform(): Promise<void> {
  return Platform.from(topology).heldAs('grader suites').stop();
}
