/** Where a run leaves its reports; every writer and reader takes its paths from here. */
import { join } from 'node:path';

export function reportPaths(root: string = process.cwd()) {
  const reports = join(root, 'reports');
  const evidence = join(reports, '.evidence');
  return {
    reports,
    evidence,
    matrix: join(evidence, 'matrix.json'),
    rules: join(evidence, 'rules.json'),
    meta: join(evidence, 'meta.json'),
    html: join(reports, 'deliverables.html'),
    results: join(reports, 'results.json'),
    junit: join(reports, 'junit.xml'),
    allureResults: join(reports, 'allure-results'),
    allureDir: join(reports, 'allure'),
    allureHtml: join(reports, 'allure', 'index.html'),
  };
}

export type ReportPaths = ReturnType<typeof reportPaths>;
