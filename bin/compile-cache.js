// Imported first by the CLI, before any TypeScript: every module after it is compiled from a
// cache (TypeScript stripping included), so a person's `up` and `down` cost what the kernel work
// costs rather than Node's start-up. Per user, never shared between users.
// The default export, not a named import: ESM links every import before node-check.js runs,
// and Node 20 has no enableCompileCache, so a named import would fail before the clear message.
import nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

nodeModule.enableCompileCache(join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ecomnet', 'node-compile-cache'));
