/**
 * The scheduler: p-queue holds the global concurrency limit; events with the same key run one at
 * a time in arrival order through a promise chain per key that feeds the queue, so a busy key
 * never blocks the others. The backlog (events accepted but not started) is bounded.
 *
 * Kept behind this small surface so a later backend (several processes, a broker) can replace it.
 */
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { C4cError } from '../errors.js';

/**
 * A unit of work. It must settle; the pipeline's jobs never reject, but the scheduler copes if one
 * does. Resolving `{ retryAfter }` asks for the job to run again after that many ms: its slot is
 * free meanwhile, and the later jobs of its key wait behind it.
 */
export type Job = () => Promise<void | { retryAfter: number }>;

/** Settings of a {@link Scheduler}. */
export interface SchedulerOptions {
  /** Jobs running at once. */
  concurrency: number;
  /** Jobs accepted but not started; beyond it `schedule` throws `E_BACKLOG`. */
  backlog: number;
}

/** Counts for stats and tests. */
export interface SchedulerStats {
  /** Jobs running now. */
  running: number;
  /** Jobs accepted and not started yet. */
  waiting: number;
  /** Most jobs ever running at once. */
  peak: number;
}

/** Global concurrency, per-key order and a bounded backlog for jobs. */
export class Scheduler {
  readonly #queue: PQueue;
  readonly #backlog: number;
  readonly #tails = new Map<string, Promise<void>>();
  readonly #running = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  /** Aborted when `close()` starts: jobs waiting to be retried are dropped, not waited for. */
  readonly #closing = new AbortController();
  #waiting = 0;
  /** Those waiting for `waiting` to drop below their limit (catch-up pacing itself). */
  readonly #roomWaiters = new Set<{ below: number; resolve: () => void }>();
  #peak = 0;
  #closed = false;
  #dropped = 0;

  constructor(options: SchedulerOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.#backlog = options.backlog;
    // Every running job listens to the shutdown signal: one listener per slot is expected, not a leak.
    setMaxListeners(0, this.#shutdown.signal);
  }

  /** Aborted when `close()` gives up waiting: running jobs should stop. */
  get shutdownSignal(): AbortSignal {
    return this.#shutdown.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): SchedulerStats {
    return { running: this.#running.size, waiting: this.#waiting, peak: this.#peak };
  }

  /**
   * Accepts a job. Jobs with the same `key` run one at a time in the order they were scheduled;
   * jobs without a key only wait for a free slot. Throws `E_BACKLOG` when too many are waiting
   * and `E_CLOSED` after `close()`.
   */
  schedule(key: string | undefined, job: Job): void {
    if (this.#closed)
      throw new C4cError('E_CLOSED', 'the runner is shutting down; the event was not accepted');
    if (this.#waiting >= this.#backlog) {
      throw new C4cError(
        'E_BACKLOG',
        `${this.#waiting} events are already waiting (backlog limit ${this.#backlog}); raise "backlog" or "concurrency" in c4c.config.ts`,
        {
          details: { waiting: this.#waiting, backlog: this.#backlog },
        },
      );
    }
    this.#waiting++;
    if (key === undefined) {
      void this.#attempts(job);
      return;
    }
    // The first job of an idle key enters the queue at once, keeping arrival order across keys.
    const previous = this.#tails.get(key);
    const tail = previous ? previous.then(() => this.#attempts(job)) : this.#attempts(job);
    this.#tails.set(key, tail);
    void tail.finally(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
  }

  /**
   * Resolves once fewer than `below` jobs wait (at once if that is already so), or when `signal`
   * aborts or the scheduler closes: a producer paces itself on it instead of polling.
   */
  waitForRoom(below: number, signal?: AbortSignal): Promise<void> {
    if (this.#waiting < below || this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        below,
        resolve: () => {
          this.#roomWaiters.delete(waiter);
          signal?.removeEventListener('abort', waiter.resolve);
          resolve();
        },
      };
      this.#roomWaiters.add(waiter);
      signal?.addEventListener('abort', waiter.resolve, { once: true });
    });
  }

  /** Resolves when nothing is running or waiting. */
  async onIdle(): Promise<void> {
    while (this.#waiting > 0 || this.#running.size > 0 || this.#tails.size > 0) {
      await Promise.allSettled([...this.#running, ...this.#tails.values(), this.#queue.onIdle()]);
    }
  }

  /**
   * Stops intake and drops what has not started; waits up to `drainTimeout` ms for running jobs,
   * then aborts `shutdownSignal` and waits for them to settle. Safe to call twice.
   * Resolves `{ drained: true }` when every running job finished before the deadline.
   */
  async close(drainTimeout: number): Promise<{ drained: boolean; dropped: number }> {
    this.#closed = true;
    this.#closing.abort();
    for (const waiter of [...this.#roomWaiters]) waiter.resolve();
    const drained = await settleWithin([...this.#running], drainTimeout);
    if (!drained) {
      this.#shutdown.abort(new C4cError('E_CLOSED', 'the runner is shutting down'));
      await Promise.allSettled([...this.#running]);
    }
    // Jobs whose turn comes after close see `closed` and are dropped without running.
    await Promise.allSettled([...this.#tails.values(), this.#queue.onIdle()]);
    return { drained, dropped: this.#dropped };
  }

  /** Runs a job, and again after each `retryAfter` it asks for, until it is done or the scheduler closes. */
  async #attempts(job: Job): Promise<void> {
    for (;;) {
      const result = await this.#enqueue(job);
      if (!result || !(result.retryAfter >= 0)) return;
      // Counted as waiting again: it will need a slot, and the backlog bound covers it.
      this.#waiting++;
      await pause(result.retryAfter, this.#closing.signal);
      if (this.#closed) {
        this.#drop();
        return;
      }
    }
  }

  #enqueue(job: Job): Promise<void | { retryAfter: number }> {
    if (this.#closed) return Promise.resolve(this.#drop());
    return this.#queue.add(() => {
      if (this.#closed) return Promise.resolve(this.#drop());
      this.#waiting--;
      this.#roomMade();
      const running = job().catch(() => undefined);
      const settled = running.then(() => undefined);
      this.#running.add(settled);
      this.#peak = Math.max(this.#peak, this.#running.size);
      return running.finally(() => this.#running.delete(settled));
    });
  }

  #drop(): void {
    this.#waiting--;
    this.#dropped++;
    this.#roomMade();
  }

  #roomMade(): void {
    for (const waiter of [...this.#roomWaiters]) if (this.#waiting < waiter.below) waiter.resolve();
  }
}

/** Waits `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
