/**
 * Reconnect delays: capped exponential backoff with full jitter
 * (delay = random(0, min(maxDelay, initialDelay × 2^(attempt−1)))). Jitter keeps a fleet of runners
 * that lost the platform at the same moment from knocking on it at the same moment.
 */

import { C4cError } from '../errors.js';

/** The reconnect schedule's defaults (the config's `reconnect` key refers to them). */
export const RECONNECT_DEFAULTS = Object.freeze({
  /** Ceiling of the first delay, in ms. */
  initialDelay: 1_000,
  /** Largest ceiling any delay may reach, in ms. */
  maxDelay: 30_000,
  /** Attempts before giving up. */
  maxAttempts: Number.POSITIVE_INFINITY,
});

/** Settings of a {@link Backoff}. */
export interface BackoffOptions {
  /** Ceiling of the first delay, in ms. @default 1_000 */
  initialDelay?: number;
  /** Largest ceiling any delay may reach, in ms. @default 30_000 */
  maxDelay?: number;
  /** Attempts allowed before giving up (counted since the last reset). @default Infinity */
  maxAttempts?: number;
  /** Source of randomness in [0, 1); injected by tests to make the schedule predictable. @default Math.random */
  random?: () => number;
}

/** One counter of consecutive failed attempts and the delay before the next one. */
export class Backoff {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly maxAttempts: number;
  readonly #random: () => number;
  #count = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialDelay = positive('initialDelay', options.initialDelay ?? RECONNECT_DEFAULTS.initialDelay);
    this.maxDelay = positive('maxDelay', options.maxDelay ?? RECONNECT_DEFAULTS.maxDelay);
    this.maxAttempts = options.maxAttempts ?? RECONNECT_DEFAULTS.maxAttempts;
    if (!(this.maxAttempts >= 1))
      throw new C4cError(
        'E_CONFIG',
        `reconnect.maxAttempts must be a number ≥ 1 (or Infinity), got ${String(options.maxAttempts)}`,
      );
    this.#random = options.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempt(): number {
    return this.#count;
  }

  /** True when another attempt is still allowed. */
  get canRetry(): boolean {
    return this.#count < this.maxAttempts;
  }

  /** The ceiling of the delay for a given attempt (1-based), before jitter. */
  ceiling(attempt: number): number {
    // 2 ** 1024 is Infinity, which Math.min handles; no overflow to guard.
    return Math.min(this.maxDelay, this.initialDelay * 2 ** (attempt - 1));
  }

  /** Counts one more attempt and returns how long to wait before making it, in whole ms. */
  next(): { attempt: number; delay: number } {
    this.#count += 1;
    const delay = Math.floor(this.#random() * this.ceiling(this.#count));
    return { attempt: this.#count, delay };
  }

  /** Starts the schedule over (after a connection proved itself). */
  reset(): void {
    this.#count = 0;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new C4cError(
      'E_CONFIG',
      `reconnect.${name} must be a finite number of ms ≥ 0, got ${String(value)}`,
    );
  return value;
}
