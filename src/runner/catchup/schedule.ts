/**
 * @module
 * When catch-up work runs: one job at a time, in the order asked (a pass, a repair of one
 * employment), each under the signal of the pass it belongs to; a new pass stops the one running
 * (its signal aborts); a failed pass is tried again after a backoff (1 s doubling to 30 s). A
 * repair joins the chain after whatever runs, so two jobs never walk the same history at once.
 */

/** Longest pause between two tries of a failed pass, ms. */
export const MAX_RETRY_DELAY = 30_000;

/** Settings of a {@link PassScheduler}. */
export interface PassSchedulerOptions {
  /** First pause before a failed pass is tried again, ms (doubles up to 30 s). @default 1_000 */
  retryDelay?: number;
  /** Starts a new pass: called when a retry is due. */
  onRetry: () => void;
}

/** The chain of catch-up jobs, the current pass's signal, and the retry timer. */
export class PassScheduler {
  readonly #options: PassSchedulerOptions;
  #chain: Promise<void> = Promise.resolve();
  #controller: AbortController | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retries = 0;
  #pending = false;
  #closed = false;

  constructor(options: PassSchedulerOptions) {
    this.#options = options;
  }

  /** Whether a pass is running or waiting for a retry (readiness: "catching up"). */
  get pending(): boolean {
    return this.#pending;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A new pass: stops the running one (its signal aborts), cancels a retry that was waiting, and
   * returns the new pass's signal. Pair with {@link then} to queue its work.
   */
  begin(): AbortSignal {
    this.#pending = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#controller?.abort();
    this.#controller = new AbortController();
    return this.#controller.signal;
  }

  /** The current pass's signal (made if no pass has begun): for work that belongs to it. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Runs `job` after every job queued before it. `job` must not throw. */
  then(job: () => Promise<void>): void {
    const previous = this.#chain;
    this.#chain = (async () => {
      await previous;
      await job();
    })();
  }

  /** The pass succeeded: the backoff starts over, and nothing is pending. */
  succeeded(): void {
    this.#retries = 0;
    this.#pending = false;
  }

  /** The pass failed: a new one starts after the next backoff step (still pending meanwhile). */
  retryLater(): void {
    const delay = Math.min(MAX_RETRY_DELAY, (this.#options.retryDelay ?? 1_000) * 2 ** this.#retries);
    this.#retries++;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#options.onRetry();
    }, delay);
    this.#retryTimer.unref();
  }

  /** No more jobs or retries; resolves once the running job has stopped. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#controller?.abort();
    await this.#chain;
  }
}
