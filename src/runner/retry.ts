/**
 * The failure policy for handlers. A handler that fails for a passing reason (an LLM API answering
 * 503, a downstream call timing out) throws {@link RetryLaterError}; the runner runs the event again
 * after a delay while the later events of its conversation wait behind it, so the read cursor never
 * passes it. After the last attempt — or at once, for an error that is not passing — the event
 * counts as failed: services are submitted `failed`, the config's `onError` sees it, and it is
 * written to the dead-letter file (`.c4c/dead-letters.jsonl`) that `c4c-runner replay` runs again.
 */
import { isC4cError } from '../errors.js';
import type { HandlerFailure, RetryPredicate } from '../config/schema.js';

export type { HandlerFailure, RetryPredicate };

const BRAND = Symbol.for('c4c-runner.RetryLaterError');

/**
 * Thrown by a handler: "not now — run this event again later". The event is retried (see the
 * config's `retry`); its conversation's later events wait behind it.
 * @example
 * const answer = await llm(ctx.event.content).catch((error) => {
 *   throw new RetryLaterError('the model is overloaded', { delay: 5_000, cause: error });
 * });
 */
export class RetryLaterError extends Error {
  /**
   * Recognised by a brand, not by class identity: a handler may import another copy of c4c-runner
   * than the runner's (a nested install, src and dist side by side) and must still be understood.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  override name = 'RetryLaterError';
  /** Wait this long before the next attempt, in ms, instead of the policy's backoff. */
  readonly delay: number | undefined;

  constructor(
    message = 'the handler asked to be run again later',
    options: { delay?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
    if (options.delay !== undefined) {
      if (!Number.isFinite(options.delay) || options.delay < 0)
        throw new TypeError(
          `RetryLaterError: delay must be a number of ms >= 0, got ${String(options.delay)}`,
        );
      this.delay = options.delay;
    }
  }
}

/** The retry settings of the config (`retry`), every default filled. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 turns retries off. */
  readonly attempts: number;
  /** Backoff before the second attempt, ms; doubles each time (equal jitter), up to `maxDelay`. */
  readonly initialDelay: number;
  /** Longest backoff, ms. */
  readonly maxDelay: number;
  /** Which errors are passing. @default {@link isPassingError} */
  readonly retryOn?: RetryPredicate | undefined;
}

/**
 * The default passing errors: {@link RetryLaterError}; the platform could not be reached from
 * `ctx.api` (`E_NETWORK`) or answered 429 / 5xx; a webhook forward that kept failing (`E_WEBHOOK`).
 */
export function isPassingError(error: unknown): boolean {
  if (error instanceof RetryLaterError) return true;
  if (isC4cError(error, 'E_NETWORK') || isC4cError(error, 'E_WEBHOOK')) return true;
  const status = (error as { status?: unknown } | null)?.status;
  return isC4cError(error, 'E_PLATFORM') && typeof status === 'number' && (status === 429 || status >= 500);
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed with `error`: the error's own delay
 * if it names one, else equal jitter over `initialDelay × 2^(attempt−1)` capped at `maxDelay` —
 * half fixed, half random, so many events failing together do not all come back at once.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  random = Math.random,
): number {
  if (error instanceof RetryLaterError && error.delay !== undefined) return error.delay;
  const ceiling = Math.min(policy.maxDelay, policy.initialDelay * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}

/** Whether a failed attempt is tried again under `policy`. */
export function shouldRetry(policy: RetryPolicy, attempt: number, error: unknown): boolean {
  if (attempt >= policy.attempts) return false;
  try {
    return (policy.retryOn ?? isPassingError)(error) === true;
  } catch {
    return false; // a predicate that throws cannot vouch for the error: the event fails as it would without retries
  }
}
