import { inject } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { Platform, type PlatformInfo, type StartedPlatform } from '../../src/platform.ts';

/** The run directory of the platform the global setup started (the default one outside the platform project). */
export const runDir = runDirAt(inject('runDir'));

/** The platform the global setup started, attached from this worker. */
export function runningPlatform(): StartedPlatform {
  const p = Platform.from(topology).withRunDir(runDir.root).attach();
  if (!p) throw new Error(`no platform is up in ${runDir.root}: the platform project's global setup starts it`);
  return p;
}

let info: PlatformInfo | undefined;

/** What the running platform was started with (data layer, uplink, guard): its state file, read once per worker. */
export function platformInfo(): PlatformInfo {
  info ??= runningPlatform().info;
  return info;
}
