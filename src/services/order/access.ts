import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http.ts';

/**
 * Orders belong to customers the service cannot tell apart (the seed's orders carry no login), so
 * only the operator reads them: with `Authorization: Bearer <the run's operator token>`. A request
 * without Authorization is a stranger's; one with a credential that is not the token is refused
 * rather than treated as a stranger's, so a mistyped token says so.
 */
export type Reader = 'operator' | 'stranger';

// The scheme is case-insensitive (RFC 9110); the token, base64url, is visible ASCII.
const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

// Digests of equal length, so comparing them takes the same time whatever the token and the guess.
const digest = (s: string) => createHash('sha256').update(s).digest();

/** Who is asking; throws a 401 for a credential that is not the operator's (or when the service has no token). */
export function readerOf(authorization: string | undefined, operatorToken: string | undefined): Reader {
  if (authorization === undefined) return 'stranger';
  const given = BEARER.exec(authorization)?.[1];
  if (given === undefined || operatorToken === undefined || !timingSafeEqual(digest(given), digest(operatorToken))) {
    throw operatorOnly('Authorization is not the operator token (Authorization: Bearer <token>)');
  }
  return 'operator';
}

/** A 401 with its challenge (RFC 6750). */
export const operatorOnly = (message: string) => new HttpError(401, message, { 'www-authenticate': 'Bearer' });
