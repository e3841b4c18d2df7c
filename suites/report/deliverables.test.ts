import { globSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deliverables } from '../../src/grader/deliverables.ts';
import { day6Suites } from '../../src/grader/day6/deliverables.ts';

/**
 * Every call that tags tests with deliverables, by file, read from the source: deliverable() itself,
 * and checksOf() (suites/support/graded.ts), whose grader checks each tag their deliverable; a
 * check id's `/what` is cut to its deliverable.
 */
function calls(): { file: string; args: string }[] {
  return globSync('suites/**/*.test.ts').flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\b(?:deliverable|checksOf)\(([^)]*)\)/g)]
      .map((m) => ({ file, args: m[1]!.trim().replace(/\/[^',]*'/g, "'") }))
      // `deliverable()` with nothing inside is prose (a describe title), not a call that tags.
      .filter((c) => c.args !== ''),
  );
}

describe('Deliverable.suites', () => {
  it('names exactly the files whose tests call deliverable() with that id', () => {
    const found = calls();
    // Only literal ids can be checked here; a computed one would let the declaration drift.
    expect(found.filter((c) => !/^'[^']+'(\s*,\s*'[^']+')*$/.test(c.args))).toEqual([]);
    for (const d of deliverables) {
      const files = [...new Set(found.filter((c) => c.args.includes(`'${d.id}'`)).map((c) => c.file))].sort();
      expect(files, d.id).not.toEqual([]);
      expect([...d.suites].sort(), d.id).toEqual(files);
    }
  });

  it('names, for course day 6, exactly the files whose tests prove its deliverables (proveDay6)', () => {
    const files = globSync('suites/**/*.test.ts').filter((file) => /\bproveDay6\(/.test(readFileSync(file, 'utf8')));
    expect([...day6Suites].sort()).toEqual(files.sort());
  });
});
