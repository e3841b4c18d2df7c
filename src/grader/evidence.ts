/** What the grader records of what it ran: the commands as a person would have seen them, and the reachability matrix. */
import type { RunResult } from '../host/exec.ts';

/** What a person would have seen in their terminal when the test ran. */
export interface Captured extends RunResult {
  at: string;
  /** The host it ran on, when the lab spans several (src/grader/split.ts); the command is as typed there. */
  host?: string;
}

export interface MatrixCell {
  from: string;
  to: string;
  expected: boolean;
  received: boolean;
}

/** reports/.evidence/matrix.json, written by the platform suites. */
export interface Matrix {
  nodes: string[];
  cells: MatrixCell[];
  summary: string;
}
