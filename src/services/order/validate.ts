import { HttpError } from '../http.ts';

export interface NewOrder {
  customer_id: string;
  product_id: string;
  quantity: number;
  total_price: number;
}

const MAX_TEXT = 100;
const MAX_QUANTITY = 10_000;
// DECIMAL(10, 2) holds at most 8 integer digits.
const MAX_PRICE = 99_999_999.99;
/**
 * Paging goes 100 pages of 100 deep: OFFSET makes PostgreSQL read and discard every row it skips,
 * so the bound is what one listing may cost. The seed's `SELECT * FROM orders` reads the rest.
 */
export const MAX_OFFSET = 10_000;
const PG_INT_MAX = 2_147_483_647;

// NUL, and (in unicode mode only unpaired) surrogates, have no UTF-8 encoding PostgreSQL accepts.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this rejects.
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

const bad = (message: string) => new HttpError(400, message);

/** Check a POST /orders body against the seed's columns; throws HttpError(400) naming the field. */
export function parseNewOrder(body: unknown): NewOrder {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  return {
    customer_id: text(b, 'customer_id'),
    product_id: text(b, 'product_id'),
    quantity: quantity(b.quantity),
    total_price: price(b.total_price),
  };
}

function text(b: Record<string, unknown>, field: string): string {
  const v = b[field];
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  // VARCHAR(100) counts characters, not UTF-16 units.
  const length = [...v].length;
  if (length < 1 || length > MAX_TEXT) throw bad(`${field} must be 1 to ${MAX_TEXT} characters`);
  if (UNSTORABLE.test(v)) throw bad(`${field} contains characters that cannot be stored`);
  return v;
}

function quantity(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_QUANTITY) {
    throw bad(`quantity must be an integer from 1 to ${MAX_QUANTITY}`);
  }
  return v;
}

function price(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('total_price must be a number');
  if (v < 0 || v > MAX_PRICE) throw bad(`total_price must be between 0 and ${MAX_PRICE}`);
  // A double "has at most 2 decimals" when it is the nearest double to its 2-decimal rounding.
  if (Number(v.toFixed(2)) !== v) throw bad('total_price must have at most 2 decimal places');
  return v;
}

/** Order ids are SERIAL: digits only (else 400); numbers no row can have are reported as absent (null). */
export function parseOrderId(raw: string): number | null {
  if (!/^\d{1,20}$/.test(raw)) throw bad('order id must be a positive integer');
  const id = Number(raw);
  return id >= 1 && id <= PG_INT_MAX ? id : null;
}

export interface Page {
  limit: number;
  offset: number;
}

export function parsePage(query: { limit?: unknown; offset?: unknown }): Page {
  return {
    limit: integerParam(query.limit, 'limit', 20, 1, 100),
    offset: integerParam(query.offset, 'offset', 0, 0, MAX_OFFSET),
  };
}

function integerParam(raw: unknown, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) throw bad(`${name} must be an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw bad(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Idempotency-Key is optional; when present it must be 1-255 visible ASCII characters. */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw bad('Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return raw;
}
