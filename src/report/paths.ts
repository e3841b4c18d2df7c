/** Where a run leaves its reports; every writer and reader takes its paths from here. */
import { join } from 'node:path';
import { escapeRegExp } from '../util/text.ts';

/** reports/ under the repository, or ECOMNET_REPORTS_DIR (verify's callers keep their reports apart). */
export function reportPaths(root: string = process.cwd()) {
  const reports = process.env.ECOMNET_REPORTS_DIR ?? join(root, 'reports');
  const evidence = join(reports, '.evidence');
  return {
    reports,
    evidence,
    matrix: join(evidence, 'matrix.json'),
    policy: join(evidence, 'policy.json'),
    /** The burst through :8080 and the traffic the observer saw on each pair (suites/phase2/traffic.test.ts). */
    traffic: join(evidence, 'traffic.json'),
    rules: join(evidence, 'rules.json'),
    meta: join(evidence, 'meta.json'),
    runErrors: join(evidence, 'run-errors.json'),
    html: join(reports, 'deliverables.html'),
    results: join(reports, 'results.json'),
    junit: join(reports, 'junit.xml'),
    /** The fault suite's numbers: recovery after kill -9 per service, the load cases' counts. */
    faults: join(reports, 'faults.json'),
    allureResults: join(reports, 'allure-results'),
    allureDir: join(reports, 'allure'),
    allureHtml: join(reports, 'allure', 'index.html'),
  };
}

export type ReportPaths = ReturnType<typeof reportPaths>;

/**
 * A path, or any text naming paths (an error message), with the repository root taken out:
 * `<root>/suites/a.test.ts` becomes `suites/a.test.ts` and the root alone `.`, so a report
 * reads the same on every machine. Paths outside the root stay as they are.
 */
export function relativeTo(root: string, text: string): string {
  // The lookahead keeps `<root>-old` or `<root>2` (another directory) intact.
  return text.replace(new RegExp(`${escapeRegExp(root)}(?:/|(?![\\w.-]))`, 'g'), (m) => (m.endsWith('/') ? '' : '.'));
}
