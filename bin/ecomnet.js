#!/usr/bin/env node
// npm links bin entries as .js; the CLI itself is TypeScript that a recent Node runs directly.
import './node-check.js';
import './compile-cache.js';

await import('../src/cli/main.ts');
