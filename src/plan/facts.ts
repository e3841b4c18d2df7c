import type { HostRoute } from '../topology/types.ts';

/** What the plan needs to know about the host; gathered by src/host/facts.ts, faked in unit tests. */
export interface HostFacts {
  /** Interface of the default route: the real uplink that the test guard closes. */
  uplinkDev?: string;
  /** Docker's DOCKER-USER chain exists: the jump into our FORWARD chain goes there so Docker keeps it first. */
  dockerUser: boolean;
  /** Current values of the sysctls we change (null when the key does not exist yet). */
  sysctl: Record<string, string | null>;
  routes: HostRoute[];
}
