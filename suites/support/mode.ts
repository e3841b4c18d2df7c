import { platformInfo } from './platform.ts';

/** True when the platform under test runs its data layer as containers; says why a containers suite skips otherwise. */
export function containersMode(suite: string): boolean {
  const on = platformInfo().data === 'containers';
  if (!on) console.log(`${suite}: skipped: the platform runs the native data layer (run with ECOMNET_DATA=containers)`);
  return on;
}
