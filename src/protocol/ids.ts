/**
 * The one id type of the code base. The platform's ids are positive integers, but the public
 * client declares some of them as JSON numbers and others as JSON strings, sometimes for the same
 * entity on two routes (docs/protocol.md, "Ids"). So an id read from the platform may be either; it
 * is compared and used as a map key in one canonical form ({@link idKey}), and sent back exactly as
 * it came (the value itself is kept, never converted), so the platform gets the form it used.
 */
import { z } from 'zod';

/**
 * An id as the platform sent it, or as user code passes it: a positive integer, or the same
 * integer written as a decimal string (`42` or `"42"`). Compare with {@link sameId}, key maps
 * with {@link idKey}; never with `===` between two ids that may come from different routes.
 */
export type Id = number | string;

/**
 * Decimal digits of a number above zero: no sign, exponent, spaces or fraction. Zero is refused,
 * since the public client is written in Go, where a missing id reads as 0.
 */
const DIGITS = /^0*[1-9]\d*$/;

/**
 * An id in either form; the parsed value is the input unchanged (a string stays a string), so it
 * can be sent back in the form it came in. Refuses zero, fractions, negatives, empty and non-digit text.
 */
export const idSchema: z.ZodType<Id, Id> = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(DIGITS, 'expected an id: a positive integer, or one written as a string of decimal digits'),
]);

/** Whether a value is an {@link Id} in either form. */
export function isId(value: unknown): value is Id {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0;
  return typeof value === 'string' && DIGITS.test(value);
}

/** The value as an {@link Id}, or `undefined` when it is not one (a missing or malformed id). */
export function parseId(value: unknown): Id | undefined {
  return isId(value) ? value : undefined;
}

/**
 * The canonical form of an id, for comparison, map keys and ledger records: its decimal digits
 * without leading zeros (`42`, `"42"` and `"042"` are all `"42"`). A string, not a number, so an
 * id beyond 2^53 stays exact.
 */
export function idKey(id: Id): string {
  if (typeof id === 'number') return String(id);
  return id.replace(/^0+(?=\d)/, '');
}

/** Whether two ids name the same thing, whatever form each came in. `undefined` equals nothing. */
export function sameId(a: Id | null | undefined, b: Id | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return false;
  return idKey(a) === idKey(b);
}

/** An id for a URL path segment, in the form it was given. */
export function idPath(id: Id): string {
  return String(id);
}

/** An id as a JSON number (the form most request bodies of the public client use). */
export function idNumber(id: Id): number {
  return typeof id === 'number' ? id : Number(id);
}

/** An id as a JSON string (the form some responses of the public client decode). */
export function idString(id: Id): string {
  return typeof id === 'string' ? id : String(id);
}
