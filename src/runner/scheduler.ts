/**
 * The scheduler: a slot count holds the global concurrency limit; events with the same key run one
 * at a time in arrival order (a FIFO per busy key), so a busy key never blocks the others. The
 * backlog (events accepted but not started) is bounded.
 *
 * A job whose key is idle and for which a slot is free starts synchronously inside `schedule`: the
 * frame that brought an event reaches its handler in the same tick, with no promise hop per stage
 * (p-queue's job wrapper, a promise chain per key and their microtasks were ~10% of the runner's
 * CPU per reply; docs/benchmarks.md).
 *
 * Kept behind this small surface so a later backend (several processes, a broker) can replace it.
 */
import { setMaxListeners } from 'node:events';
import { C4cError } from '../errors.js';

/**
 * A unit of work. It must settle; the pipeline's jobs never reject, but the scheduler copes if one
 * does. Resolving `{ retryAfter }` asks for the job to run again after that many ms: its slot is
 * free meanwhile, and the later jobs of its key wait behind it. Resolving `{ after }` frees the
 * slot but keeps the key until `after` settles (a reply written, its proof of delivery still on
 * its way: the next event of the conversation waits for it, other conversations do not).
 */
export type Job = () => Promise<JobResult>;

/** What a {@link Job} resolves to. */
export type JobResult = void | { retryAfter: number } | { after: Promise<void> };

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

/** A job on its way: its key (held from `schedule` until the job is done) and the job. */
interface Task {
  readonly key: string | undefined;
  readonly job: Job;
}

/** Global concurrency, per-key order and a bounded backlog for jobs. */
export class Scheduler {
  readonly #concurrency: number;
  readonly #backlog: number;
  /** Busy keys, each with the tasks waiting behind its current one (FIFO; `null` while none waits). */
  readonly #keys = new Map<string, Task[] | null>();
  /** Tasks whose key is theirs, waiting for a slot, in the order they became ready. */
  #ready: Task[] = [];
  #readyHead = 0;
  /** Slots in use. */
  #slots = 0;
  /** Running jobs (each holds a slot), as promises that settle with them. */
  readonly #running = new Set<Promise<void>>();
  /** Jobs that gave their slot back but still hold their key (`{ after }`). */
  readonly #holding = new Set<Promise<void>>();
  /** Jobs pausing before they run again (`{ retryAfter }`): neither running nor holding a slot. */
  #pausing = 0;
  readonly #shutdown = new AbortController();
  /** Aborted when `close()` starts: jobs waiting to be retried are dropped, not waited for. */
  readonly #closing = new AbortController();
  #waiting = 0;
  /** Those waiting for `waiting` to drop below their limit (catch-up pacing itself). */
  readonly #roomWaiters = new Set<{ below: number; resolve: () => void }>();
  /** Those waiting for `onIdle`. */
  readonly #idleWaiters = new Set<() => void>();
  #peak = 0;
  #closed = false;
  #dropped = 0;

  constructor(options: SchedulerOptions) {
    this.#concurrency = options.concurrency;
    this.#backlog = options.backlog;
    // Every running job may listen to the shutdown signal: one listener per slot is expected, not a leak.
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
    return { running: this.#slots, waiting: this.#waiting, peak: this.#peak };
  }

  /**
   * Accepts a job. Jobs with the same `key` run one at a time in the order they were scheduled;
   * jobs without a key only wait for a free slot. A job that can start now starts before this
   * returns. Throws `E_BACKLOG` when too many are waiting and `E_CLOSED` after `close()`.
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
    const task: Task = { key, job };
    if (key !== undefined) {
      const behind = this.#keys.get(key);
      if (behind !== undefined) {
        // An array only for a key that has someone waiting: most keys never do.
        if (behind) behind.push(task);
        else this.#keys.set(key, [task]);
        return;
      }
      this.#keys.set(key, null);
    }
    this.#offer(task);
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

  /** Resolves when nothing is running, holding its key, pausing for a retry or waiting. */
  onIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.add(resolve));
  }

  /**
   * Stops intake and drops what has not started; waits up to `drainTimeout` ms for running jobs,
   * then aborts `shutdownSignal` and waits for them to settle. Safe to call twice.
   * Resolves `{ drained: true }` when every running job finished before the deadline.
   */
  async close(drainTimeout: number): Promise<{ drained: boolean; dropped: number }> {
    if (!this.#closed) {
      this.#closed = true;
      this.#closing.abort();
      // What has not started never will: the tasks waiting for a slot and those behind a busy key.
      for (let i = this.#readyHead; i < this.#ready.length; i++) this.#drop();
      this.#ready = [];
      this.#readyHead = 0;
      for (const behind of this.#keys.values()) {
        if (!behind) continue;
        for (let i = 0; i < behind.length; i++) this.#drop();
        behind.length = 0;
      }
      for (const waiter of [...this.#roomWaiters]) waiter.resolve();
    }
    // A job that freed its slot but waits for its reply's proof still counts for the drain.
    const drained = await settleWithin([...this.#running, ...this.#holding], drainTimeout);
    if (!drained) {
      this.#shutdown.abort(new C4cError('E_CLOSED', 'the runner is shutting down'));
      await Promise.allSettled([...this.#running, ...this.#holding]);
    }
    // Jobs pausing for a retry see `closed` as their pause ends (at once: closing aborted it).
    await this.onIdle();
    return { drained, dropped: this.#dropped };
  }

  /** A task that holds its key (or has none): it starts if a slot is free, else waits for one. */
  #offer(task: Task): void {
    if (this.#slots < this.#concurrency) this.#start(task);
    else this.#ready.push(task);
  }

  #start(task: Task): void {
    this.#waiting--;
    this.#slots++;
    this.#peak = Math.max(this.#peak, this.#slots);
    this.#roomMade();
    let result: Promise<JobResult>;
    try {
      result = task.job();
    } catch (error) {
      result = Promise.reject(error);
    }
    const done: Promise<void> = result.then(
      (value) => this.#done(task, value, done),
      () => this.#done(task, undefined, done),
    );
    this.#running.add(done);
  }

  /** A job settled: its slot goes to the next ready task; its key follows what it asked for. */
  #done(task: Task, result: JobResult, done: Promise<void>): void {
    this.#slots--;
    this.#running.delete(done);
    this.#next();
    if (result && 'after' in result) {
      const held: Promise<void> = result.after.then(
        () => this.#unhold(task, held),
        () => this.#unhold(task, held),
      );
      this.#holding.add(held);
      return;
    }
    if (result && result.retryAfter >= 0) {
      // Counted as waiting again: it will need a slot, and the backlog bound covers it.
      this.#waiting++;
      this.#pausing++;
      void pause(result.retryAfter, this.#closing.signal).then(() => {
        this.#pausing--;
        if (!this.#closed) {
          this.#offer(task);
          return;
        }
        this.#drop();
        this.#release(task.key);
      });
      return;
    }
    this.#release(task.key);
  }

  #unhold(task: Task, held: Promise<void>): void {
    this.#holding.delete(held);
    this.#release(task.key);
  }

  /** Starts the oldest ready tasks in the slots that are free. */
  #next(): void {
    while (this.#slots < this.#concurrency && this.#readyHead < this.#ready.length) {
      const next = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead] = undefined as unknown as Task; // let it be collected
      this.#readyHead++;
      this.#start(next);
    }
    // A head index instead of `Array#shift` keeps a long queue linear; compacted now and then.
    if (this.#readyHead === this.#ready.length) {
      this.#ready = [];
      this.#readyHead = 0;
    } else if (this.#readyHead >= 1024 && this.#readyHead * 2 >= this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
  }

  /** A key's job is done: the next task behind it gets its turn, or the key is idle. */
  #release(key: string | undefined): void {
    if (key !== undefined) {
      const behind = this.#keys.get(key);
      const next = behind?.shift();
      if (next) this.#offer(next);
      else this.#keys.delete(key);
    }
    this.#checkIdle();
  }

  #drop(): void {
    this.#waiting--;
    this.#dropped++;
    this.#roomMade();
  }

  #roomMade(): void {
    if (this.#roomWaiters.size === 0) return;
    for (const waiter of [...this.#roomWaiters]) if (this.#waiting < waiter.below) waiter.resolve();
  }

  #idle(): boolean {
    return this.#waiting === 0 && this.#slots === 0 && this.#holding.size === 0 && this.#pausing === 0;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.size === 0 || !this.#idle()) return;
    for (const resolve of [...this.#idleWaiters]) resolve();
    this.#idleWaiters.clear();
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
