#!/usr/bin/env node
// npm links bin entries as .js; the CLI itself is TypeScript that Node 22.18+ runs directly.
await import('../src/cli/main.ts');
