/**
 * A build script's text as it runs: the script, then each file it sources by a path relative to
 * its own directory (`. "$(dirname "$0")/lib/services.sh"`). Where a build keeps its start lines
 * in a file it sources (learner/build.sh does), the grader still finds what was started where.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const SOURCED = /^\s*(?:\.|source)\s+"?\$\(dirname\s+"?\$(?:0|\{BASH_SOURCE\[0\]\})"?\)\/([^"\s;]+)"?\s*$/gm;

export async function buildText(script: string): Promise<string | undefined> {
  const text = await readFile(script, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const sourced = await Promise.all([...text.matchAll(SOURCED)].map((m) => readFile(join(dirname(script), m[1]!), 'utf8').catch(() => '')));
  return [text, ...sourced].join('\n');
}
