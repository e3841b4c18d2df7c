/** A JUnit file as Vitest writes one: totals on <testsuites>, one <skipped/> per skipped test. */
export const junit = (tests: number, failures: number, skipped: number) =>
  `<?xml version="1.0"?>\n<testsuites name="vitest tests" tests="${tests}" failures="${failures}" errors="0" time="1">\n` +
  `${'<testcase name="t"><skipped/></testcase>\n'.repeat(skipped)}</testsuites>\n`;
