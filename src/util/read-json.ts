import { readFileSync } from 'node:fs';

/** A JSON file's content, or undefined when it is absent or not JSON (a torn write, a crash). */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
