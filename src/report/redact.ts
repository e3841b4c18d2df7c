/**
 * The run's secrets, kept out of everything a run writes or prints: evidence, results.json, the
 * deliverables page, junit.xml, Allure's results, the job summary and the console.
 */
import { runDirAt, runDirsOfARun } from '../host/run-dir.ts';
import { readSecrets } from '../runtime/secrets.ts';
import { esc } from '../util/text.ts';

export const MASK = '********';

/** Shorter values would mask ordinary words; the run's passwords are 32 characters. */
const MIN_LENGTH = 4;

export class Redactor {
  readonly #secrets = new Set<string>();
  readonly #dirs: string[];

  /** `dirs`: the run directories whose secrets.json to read (every one a test run may use, by default). */
  constructor(dirs: string[] = runDirsOfARun()) {
    this.#dirs = dirs;
  }

  add(values: Iterable<string | undefined>): this {
    for (const v of values) if (v && v.length >= MIN_LENGTH) this.#secrets.add(v);
    return this;
  }

  /**
   * Adds the secrets of every run directory that has them now. Kept once seen: a test's own
   * platform removes its secrets.json at `down`, before its errors are reported.
   */
  collect(): this {
    for (const d of this.#dirs) {
      try {
        this.add(Object.values(readSecrets(runDirAt(d)) ?? {}));
      } catch {
        // Not there, not ours to read, or being written: the next collect sees it.
      }
    }
    return this;
  }

  /**
   * The secret and its URL-encoded form (as in a connection string) masked, and so is the start
   * of one cut short with an ellipsis, as assertion messages shorten long strings.
   */
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) {
      // As written raw, in a URL, in HTML and in JSON: each writer escapes before it is masked.
      for (const form of new Set([s, encodeURIComponent(s), esc(s), JSON.stringify(s).slice(1, -1)])) out = out.split(form).join(MASK);
      if (!out.includes('…')) continue;
      for (let n = s.length - 1; n >= MIN_LENGTH; n--) out = out.split(`${s.slice(0, n)}…`).join(`${MASK}…`);
    }
    return out;
  }

  /** Every string in `value` (an error, or one as Vitest serialised it: message, stack, diff, expected, ...) redacted in place. */
  redactDeep<T>(value: T, seen = new Set<object>()): T {
    if (!value || typeof value !== 'object' || seen.has(value)) return value;
    seen.add(value);
    const o = value as Record<string, unknown>;
    // An Error's message and stack are not enumerable.
    const keys = value instanceof Error ? ['message', 'stack', 'cause', ...Object.keys(o)] : Object.keys(o);
    for (const k of new Set(keys)) {
      const v = o[k];
      if (typeof v === 'string') o[k] = this.redact(v);
      else this.redactDeep(v, seen);
    }
    return value;
  }
}
