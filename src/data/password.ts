import { randomBytes } from 'node:crypto';

/** A fresh random secret per run; base64url so it is safe in URLs and config files unquoted. */
export function generatePassword(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
