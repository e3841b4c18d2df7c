import { describe, expect, it } from 'vitest';
import { closingLine, countRun, junitCounts } from '../../ci/tally.ts';
import { junit } from '../support/junit.ts';

describe('.ci/run counts a red run as red, however it is red', () => {
  it('tests from JUnit; one more failure each for a non-zero exit, no JUnit, a problem found afterwards', () => {
    expect(junitCounts(junit(10, 2, 3))).toEqual({ passed: 5, failed: 2, skipped: 3 });
    expect(countRun({ exitCode: 0, junit: junit(4, 0, 1), problems: [] })).toMatchObject({ passed: 3, failed: 0, skipped: 1 });
    // A failed global teardown: every test passed, the process exited 1.
    expect(countRun({ exitCode: 1, junit: junit(4, 0, 0), problems: [] })).toMatchObject({ passed: 4, failed: 1 });
    expect(countRun({ exitCode: 1, junit: undefined, problems: [] })).toMatchObject({ passed: 0, failed: 2 });
    expect(countRun({ exitCode: 0, junit: junit(4, 0, 0), problems: ['left something on the host'] })).toMatchObject({ failed: 1 });
    expect(closingLine({ passed: 1, failed: 2, skipped: 3 })).toBe('1 passed, 2 failed, 3 skipped');
  });
});
