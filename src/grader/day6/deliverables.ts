/**
 * Course day 6's deliverables as a catalogue of their own, beside the seed's 27 (which the seed's
 * score, verify and the class report count): the ids and titles the day-6 grader judges, proven in
 * `npm test` by ecomnet's own two-host platform.
 */
import type { Deliverable } from '../deliverables.ts';
import { titles } from './checks.ts';
import type { Day6Id } from './diagnose.ts';

export const day6Epic = 'Course day 6: two hosts';

/** The test files whose tests prove them (relative to the repository root). */
export const day6Suites = ['suites/vhost/two-hosts.test.ts'];

export const day6Deliverables: (Deliverable & { id: Day6Id })[] = (Object.entries(titles) as [Day6Id, string][]).map(([id, title]) => ({
  id,
  task: '6',
  points: 1,
  epic: day6Epic,
  feature: '6 Two hosts joined by a VXLAN',
  title,
  suites: day6Suites,
}));
