/**
 * Request signing, so a webhook can tell a forward from c4c-runner from anyone else's POST.
 *
 * `X-C4C-Timestamp: <unix seconds>` and
 * `X-C4C-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
 * The timestamp is inside the signed text so a captured request cannot be replayed later with a
 * fresh timestamp; the receiver checks both the signature and that the timestamp is recent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signing time, in whole seconds since the epoch. */
export const TIMESTAMP_HEADER = 'X-C4C-Timestamp';
/** Header carrying `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'X-C4C-Signature';

/** The hex HMAC-SHA256 of `timestamp + "." + body` under `secret`. */
export function signatureFor(secret: string, timestamp: string | number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The two headers for a body signed now (or at `now`, in ms). */
export function signatureHeaders(secret: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `sha256=${signatureFor(secret, timestamp, body)}`,
  };
}

export interface VerifyInput {
  secret: string;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string | Buffer;
  /** The `X-C4C-Timestamp` header. */
  timestamp: string | undefined;
  /** The `X-C4C-Signature` header. */
  signature: string | undefined;
  /** Oldest (and newest) accepted timestamp, in seconds from now. @default 300 */
  tolerance?: number;
  /** The receiver's clock, in ms. @default Date.now() */
  now?: number;
}

/**
 * Whether a received request was signed with `secret` recently. Compares in constant time.
 * @example
 * verifyWebhookSignature({ secret, body: rawBody, timestamp: req.headers['x-c4c-timestamp'], signature: req.headers['x-c4c-signature'] })
 */
export function verifyWebhookSignature(input: VerifyInput): boolean {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || !signature.startsWith('sha256=')) return false;
  const age = Math.abs((input.now ?? Date.now()) / 1000 - Number(timestamp));
  if (age > (input.tolerance ?? 300)) return false;
  const body = typeof input.body === 'string' ? input.body : input.body.toString('utf8');
  const expected = Buffer.from(signatureFor(input.secret, timestamp, body), 'hex');
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
