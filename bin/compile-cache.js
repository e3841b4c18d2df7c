// Imported first by the CLI, before any TypeScript: every module after it is compiled from a
// cache (TypeScript stripping included), so a person's `up` and `down` cost what the kernel work
// costs rather than Node's start-up. Per user, never shared between users.
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

enableCompileCache(join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ecomnet', 'node-compile-cache'));
