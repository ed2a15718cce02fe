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
 * A unit of work: it returns a promise of its result, or nothing and then ends with
 * {@link Scheduler.finish} (the pipeline's jobs do). It must end; the pipeline's jobs never reject,
 * but the scheduler copes if one does. Resolving `{ retryAfter }` asks for the job to run again after that many ms: its slot is
 * free meanwhile, and the later jobs of its key wait behind it. Resolving `{ after }` frees the
 * slot but keeps the key until `after` settles (a reply written, its proof of delivery still on
 * its way: the next event of the conversation waits for it, other conversations do not).
 */
export type Job = (task: TaskHandle) => Promise<JobResult> | void;

/**
 * What a {@link Job} resolves to. {@link HOLD} (for a job that reports by callback, see
 * {@link Scheduler.finish}) is `{ after }` without the promise: the key stays until {@link Scheduler.unhold}.
 */
export type JobResult = void | { retryAfter: number } | { after: Promise<void> } | typeof HOLD;

/** The result that frees a job's slot and keeps its key until {@link Scheduler.unhold}. */
export const HOLD: { readonly hold: true } = Object.freeze({ hold: true });

/**
 * A job's own handle. A job that returns nothing (instead of a promise) reports its end with
 * {@link Scheduler.finish}: the pipeline's jobs do, since a promise per job and another per held key
 * were a visible share of the runner's allocation per reply (docs/benchmarks.md, section 0d).
 */
export interface TaskHandle {
  readonly key: string | undefined;
  /**
   * What `schedule` was given for the job (and what the job left here since): one job function can
   * serve every task, instead of a closure per task (the pipeline keeps its event's run here).
   */
  data: unknown;
}

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

/** Where a task is: waiting (or pausing for a retry), running, done but holding its key, or over. */
type Phase = 'queued' | 'running' | 'held' | 'over';

/** A job on its way: its key (held from `schedule` until the job is done) and the job. */
class Task implements TaskHandle {
  phase: Phase = 'queued';
  constructor(
    readonly key: string | undefined,
    readonly job: Job,
    public data: unknown,
  ) {}
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
  /**
   * Jobs that gave their slot back but still hold their key (`{ after }`). Counts, with `#slots`,
   * rather than sets of promises: a set that grows and shrinks with the jobs in flight rehashes as
   * it goes, and only `close()` needs to know when they are all done (`#quietWaiters`).
   */
  #held = 0;
  /** Those waiting (in `close()`) for no job to run or hold its key. */
  readonly #quietWaiters = new Set<() => void>();
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
   * returns. Throws `E_BACKLOG` when too many are waiting and `E_CLOSED` after `close()`. `data` is
   * the task's {@link TaskHandle.data}.
   */
  schedule(key: string | undefined, job: Job, data?: unknown): void {
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
    const task = new Task(key, job, data);
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
    const drained = await this.#quiet(drainTimeout);
    if (!drained) {
      this.#shutdown.abort(new C4cError('E_CLOSED', 'the runner is shutting down'));
      await this.#quiet(Number.POSITIVE_INFINITY);
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

  /**
   * Ends a job that returned nothing from its call (see {@link TaskHandle}). Its slot goes to the
   * next task; its key follows what `result` asks for. Only the first call for a task counts.
   */
  finish(handle: TaskHandle, result: JobResult): void {
    const task = handle as Task;
    if (task.phase === 'running') this.#done(task, result);
  }

  /** Gives back the key of a job that finished with {@link HOLD}. Only the first call counts. */
  unhold(handle: TaskHandle): void {
    const task = handle as Task;
    if (task.phase !== 'held') return;
    task.phase = 'over';
    this.#unhold(task);
  }

  #start(task: Task): void {
    this.#waiting--;
    this.#slots++;
    this.#peak = Math.max(this.#peak, this.#slots);
    this.#roomMade();
    task.phase = 'running';
    let result: Promise<JobResult> | void;
    try {
      result = task.job(task);
    } catch (error) {
      result = Promise.reject(error);
    }
    // No promise: the job calls finish() itself (perhaps already has).
    if (result === undefined) return;
    result.then(
      (value) => this.finish(task, value),
      () => this.finish(task, undefined),
    );
  }

  /** A job settled: its slot goes to the next ready task; its key follows what it asked for. */
  #done(task: Task, result: JobResult): void {
    task.phase = 'over';
    this.#slots--;
    this.#next();
    if (result && 'hold' in result) {
      task.phase = 'held';
      this.#held++;
      this.#checkQuiet();
      return;
    }
    if (result && 'after' in result) {
      this.#held++;
      result.after.then(
        () => this.#unhold(task),
        () => this.#unhold(task),
      );
      this.#checkQuiet();
      return;
    }
    if (result && result.retryAfter >= 0) {
      // Counted as waiting again: it will need a slot, and the backlog bound covers it.
      this.#waiting++;
      this.#pausing++;
      task.phase = 'queued';
      void pause(result.retryAfter, this.#closing.signal).then(() => {
        this.#pausing--;
        if (!this.#closed) {
          this.#offer(task);
          return;
        }
        this.#drop();
        this.#release(task.key);
      });
      this.#checkQuiet();
      return;
    }
    this.#release(task.key);
    this.#checkQuiet();
  }

  /**
   * Resolves `true` once no job runs or holds its key, `false` if `ms` pass first. Jobs pausing for
   * a retry do not count: closing ends their pause.
   */
  #quiet(ms: number): Promise<boolean> {
    if (this.#slots === 0 && this.#held === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (quiet: boolean): void => {
        clearTimeout(timer);
        this.#quietWaiters.delete(onQuiet);
        resolve(quiet);
      };
      const onQuiet = (): void => done(true);
      this.#quietWaiters.add(onQuiet);
      if (Number.isFinite(ms)) {
        timer = setTimeout(() => done(false), ms);
        timer.unref();
      }
    });
  }

  #checkQuiet(): void {
    if (this.#quietWaiters.size === 0 || this.#slots > 0 || this.#held > 0) return;
    for (const onQuiet of [...this.#quietWaiters]) onQuiet();
  }

  #unhold(task: Task): void {
    this.#held--;
    this.#release(task.key);
    this.#checkQuiet();
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
    return this.#waiting === 0 && this.#slots === 0 && this.#held === 0 && this.#pausing === 0;
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
