/**
 * The pipeline from a decoded frame to a sent reply:
 * frame → event → dedupe (ledger) → route (registry) → schedule (scheduler) → handler(ctx) → reply → ack.
 * A handler that throws, times out or returns a bad reply is logged with its event and file, and
 * the pipeline goes on.
 */
import type { ApiClient } from '../api/client.js';
import { isUndeliverable } from '../connection/delivery.js';
import type { Settle } from '../connection/outbox.js';
import { isC4cError } from '../errors.js';
import type { Logger } from '../log.js';
import { toEvent, type RoutedEvent } from '../protocol/events.js';
import type { ClientFrame, ServerFrame } from '../protocol/frames.js';
import type { Context, MessageContent } from './context.js';
import { dedupeKey, orderingKey } from './keys.js';
import type { Ledger } from './ledger.js';
import type { HandlerEntry, HandlerRegistry } from './registry.js';
import type { Id } from '../protocol/ids.js';
import { deliver, messageFrame, replyFrame, submitFailure } from './replies.js';
import { HOLD, type JobResult, type Scheduler, type TaskHandle } from './scheduler.js';
import { Deadlines } from './deadlines.js';
import type { HandlerExecutor } from './executor.js';
import { completeReplyId } from './find-ids.js';
import { contextOf, errorText, EventRun, messageIdOf, type ContextHost, type Outcome } from './run.js';
import { retryDelay, shouldRetry, type HandlerFailure, type RetryPolicy } from './retry.js';
import { agentIdOnce } from '../state/extras.js';
import { MemoryStateStore } from '../state/memory.js';
import type { StateStore } from '../state/store.js';

/** What the pipeline is wired to. */
export interface PipelineOptions {
  registry: HandlerRegistry;
  scheduler: Scheduler;
  ledger: Ledger;
  api: ApiClient;
  /** Sends a frame to the platform; resolves once a socket took it. */
  send: (frame: ClientFrame) => Promise<unknown>;
  /**
   * Sends a handler's returned reply; resolves once the platform confirmed it, so the acknowledgement
   * that follows never outruns the reply. Calls `onWritten` once a socket took the frame: the
   * handler's slot is freed then, while the acknowledgement waits for the proof (a sender that never
   * calls it frees the slot when its promise resolves). @default `send`
   */
  sendConfirmed?: (frame: ClientFrame, onWritten?: () => void) => Promise<unknown>;
  /**
   * `sendConfirmed` without a promise: `settle` hears once a socket took the reply (`written`) and
   * how it ended (proven, or not). Used instead of `sendConfirmed` when given (the runner's
   * connection): a promise and its callbacks per reply were a visible share of the allocation per
   * reply (docs/benchmarks.md, section 0d).
   */
  deliver?: ((frame: ClientFrame, settle: Settle) => void) | undefined;
  logger: Logger;
  /** Default per-handler time limit, ms. */
  timeout: number;
  /**
   * Handles events that have no handler file (and, for notifications, no `notification` catch-all):
   * `connect`'s printer/forwarder, or the `webhook` of c4c.config.ts. @default none (dropped)
   */
  fallback?: FallbackHandler | undefined;
  /** Where `ctx.state` is kept. @default a new memory store */
  state?: StateStore | undefined;
  /** Sees what became of every event a handler ran for (dev's outcome lines, metrics). Never throws into the pipeline. */
  onOutcome?: ((outcome: EventOutcome) => void) | undefined;
  /** When a failed handler runs again. @default one attempt (no retries) */
  retry?: RetryPolicy | undefined;
  /**
   * Sees each event that failed for good (the config's `onError`, the dead-letter file). Called
   * before the event is acknowledged; awaited. Never throws into the pipeline.
   */
  onFailure?: ((failure: HandlerFailure) => void | Promise<void>) | undefined;
  /** Where handler functions run (worker threads). @default in-process: `entry.handle(ctx)` on this thread */
  executor?: HandlerExecutor | undefined;
}

/** What {@link Pipeline.accept} did with a frame. */
export type AcceptResult =
  /** Scheduled: a handler will run for it. */
  | 'accepted'
  /** Its dedupe key was already claimed (it ran, or is running or waiting). */
  | 'duplicate'
  /** Nothing handles it (or it is not an event, or the runner is shutting down); dropped. */
  | 'unhandled'
  /** The backlog is full or the scheduler closed: not taken, not claimed — it may come again. */
  | 'refused';

/**
 * What became of one event a handler ran for, reported once its reply was sent (or not):
 * - `replied`: the return value became a platform action (`action` says which);
 * - `no-reply`: the handler returned nothing (or nothing was due for its event);
 * - `retrying`: it threw a passing error (`RetryLaterError`, the platform unreachable…); the event
 *   runs again in `retryInMs` while its conversation's later events wait (`attempt` says which try failed);
 * - `failed`: it threw (on its last attempt, or an error that is not passing), or returned a reply
 *   its event does not take (`error`); such an event goes to the dead-letter file;
 * - `timed-out`: it did not finish within its time limit;
 * - `aborted`: shutdown stopped it (the event stays unacknowledged);
 * - `unsent`: the reply could not be sent (the event stays unacknowledged).
 */
export interface EventOutcome {
  /** The event as routed (its name and the validated frame). */
  readonly routed: RoutedEvent;
  /** The handler file (relative label) that ran. */
  readonly file: string;
  readonly kind: 'replied' | 'no-reply' | 'retrying' | 'failed' | 'timed-out' | 'aborted' | 'unsent';
  /** Which attempt this was (1 for the first run). */
  readonly attempt?: number;
  /** For `retrying`: the wait before the next attempt, ms. */
  readonly retryInMs?: number;
  /** Time in the handler, ms (without the reply's delivery). */
  readonly durationMs: number;
  /** What the handler returned, for `replied` and `no-reply`. */
  readonly value?: unknown;
  /** The platform action taken, for `replied`: e.g. "message into employment 3". */
  readonly action?: string;
  /** The error, for `failed`, `timed-out`, `aborted` and `unsent`. */
  readonly error?: unknown;
}

/** A handler that is not a file: used for every event no file handles. */
export type FallbackHandler = Omit<HandlerEntry, 'name'>;

/** Counters since start. */
export interface PipelineStats {
  /** Events received (frames that are events). */
  received: number;
  /** Events dropped as duplicates (same messageId). */
  duplicates: number;
  /** Events without a handler (logged at debug, dropped). */
  unhandled: number;
  /** Events refused because the backlog was full or the runner was closing. */
  refused: number;
  /** Handlers that finished without throwing. */
  handled: number;
  /** Handlers that threw (on their last attempt). */
  failed: number;
  /** Attempts that threw a passing error and were scheduled again. */
  retried: number;
  /** Handlers that did not finish in time. */
  timedOut: number;
  /** Handlers aborted by shutdown. */
  aborted: number;
  /** Replies sent (frames or REST actions). */
  replies: number;
  /** Replies that were invalid or that the platform refused. */
  replyErrors: number;
}

/** A reply's end: whether its event is acknowledged, and what to report. */
interface Replied {
  acknowledge: boolean;
  report: Report;
}

/** What became of an event, before the pipeline adds which event, file, attempt and time it was. */
type Report = Omit<EventOutcome, 'routed' | 'file' | 'attempt' | 'durationMs'>;

/** Every counter at zero. */
export function emptyPipelineStats(): PipelineStats {
  return {
    received: 0,
    duplicates: 0,
    unhandled: 0,
    refused: 0,
    handled: 0,
    failed: 0,
    retried: 0,
    timedOut: 0,
    aborted: 0,
    replies: 0,
    replyErrors: 0,
  };
}

/** The pipeline's side of a proof (set in its static block: the methods they call are private). */
let settleProof: (pipeline: Pipeline, wait: ProofWait, error: Error | undefined) => void;
let proofWritten: (pipeline: Pipeline, wait: ProofWait) => void;

/** Frames in, handlers run, replies out: one per runner. */
export class Pipeline {
  readonly stats: PipelineStats = emptyPipelineStats();
  readonly #o: PipelineOptions;
  /** What every `ctx` shares (run.ts). */
  readonly #host: ContextHost;
  /** Every running handler's deadline: one timer per time limit, not one per event. */
  readonly #deadlines = new Deadlines<EventRun>((run) => run.timeout());
  /** The confirmed sender. */
  readonly #confirmed: NonNullable<PipelineOptions['sendConfirmed']>;
  /** Returned replies waiting for their proof: shutdown ends the wait (see the constructor). */
  readonly #proving = new ProofWaits();
  #accepting = true;
  /**
   * The events that recent `ctx.reply`/`ctx.send` messages were sent for, by messageId: those calls
   * resolve once written, and a refusal for good comes after. Bounded: a refusal names one of the
   * last frames written (the connection keeps only those to match it).
   */
  readonly #sentBy = new Map<string, EventRun>();

  constructor(options: PipelineOptions) {
    this.#o = options;
    const { api } = options;
    this.#host = {
      api,
      state: { store: options.state ?? new MemoryStateStore(), api, agentId: agentIdOnce(api) },
      sendMessage: (run, employmentId, content) => this.#sendMessage(run, employmentId, content),
    };
    const shutdown = options.scheduler.shutdownSignal;
    this.#confirmed = options.sendConfirmed ?? options.send;
    // One listener for all running handlers (not one per event): shutdown stops those still running.
    if (!shutdown.aborted)
      shutdown.addEventListener(
        'abort',
        () => {
          this.#deadlines.drain((run) => run.shutdown(shutdown.reason));
          // Unproven, a reply's message stays unacknowledged: a platform that stopped answering
          // must not hold the drain forever.
          for (const wait of this.#proving.takeAll()) this.#notProven(wait, shutdown.reason);
        },
        {
          once: true,
        },
      );
  }

  /** Stops taking events; frames arriving afterwards are ignored (and not acknowledged). */
  stopIntake(): void {
    this.#accepting = false;
  }

  /** Takes one decoded frame and says what became of it. Never throws. */
  accept(frame: ServerFrame): AcceptResult {
    const routed = toEvent(frame);
    if (!routed) return 'unhandled';
    const { logger, ledger, scheduler } = this.#o;
    if (!this.#accepting) {
      logger.debug({ event: routed.name }, 'event ignored: the runner is shutting down');
      return 'unhandled';
    }
    this.stats.received++;
    const id = messageIdOf(routed);
    const key = dedupeKey(routed);
    if (key !== undefined && !ledger.claim(key)) {
      this.stats.duplicates++;
      logger.debug({ event: routed.name, messageId: id }, 'duplicate event dropped');
      return 'duplicate';
    }
    const entry = this.#route(routed);
    if (!entry) {
      this.stats.unhandled++;
      logger.debug({ event: routed.name, messageId: id }, `no handler for "${routed.name}"; event dropped`);
      return 'unhandled';
    }
    try {
      // The run travels as the task's data: one job function for every event, no closure per event.
      const run = new EventRun(routed, entry, 1, entry.timeout ?? this.#o.timeout, this.#o.logger);
      scheduler.schedule(orderingKey(routed), this.#job, run);
      return 'accepted';
    } catch (error) {
      this.stats.refused++;
      if (key !== undefined) ledger.release(key);
      logger.warn(
        { err: error, event: routed.name, messageId: id, file: entry.label },
        `event refused: ${(error as Error).message}`,
      );
      return 'refused';
    }
  }

  /** The handler of an event: its own, else the `notification` catch-all for notifications. */
  #route(routed: RoutedEvent): HandlerEntry | undefined {
    const { registry } = this.#o;
    const own = registry.get(routed.name);
    if (own) return own;
    const catchAll = routed.event.type === 'notification' ? registry.get('notification') : undefined;
    if (catchAll) return catchAll;
    const { fallback } = this.#o;
    return fallback ? { ...fallback, name: routed.name } : undefined;
  }

  /**
   * Runs an event's handler and settles its job: at once for most outcomes, at the reply's write for
   * a message answered with a frame. Callbacks rather than an `async` function: the promise of an
   * async function per stage, and the adoption of one promise by another, were a large part of the
   * runner's allocation per reply (docs/benchmarks.md).
   */
  #run(task: TaskHandle): void {
    let run = task.data as EventRun;
    const { routed } = run;
    // The newest version of the handler when its turn comes (dev reloads); once started, it keeps it.
    const entry = this.#route(routed) ?? run.entry;
    // A run that started before is a retry: the next attempt is a run of its own.
    if (run.task !== undefined || entry !== run.entry) {
      const attempt = run.task === undefined ? run.attempt : run.attempt + 1;
      run = new EventRun(routed, entry, attempt, entry.timeout ?? this.#o.timeout, this.#o.logger);
      task.data = run;
    }
    run.task = task;
    const ctx = contextOf(run, this.#host);
    const shutdown = this.#o.scheduler.shutdownSignal;
    run.started = performance.now();
    if (shutdown.aborted) run.shutdown(shutdown.reason);
    else run.deadline = this.#deadlines.add(run.limit, run);
    // A handler that ignores its signal and hangs loses its slot and its key at the deadline.
    const handled = this.#handle(routed, entry, ctx);
    // A handler that returned (or threw) synchronously needs no wait for its outcome.
    if (!isThenable(handled) && !run.stopped) this.#settle(run, handled, run.started);
    else run.await(isThenable(handled) ? handled : undefined, this.#awaited);
  }

  /** Every task's job (its run is the task's data; see {@link Scheduler.schedule}). */
  readonly #job = (task: TaskHandle): void => this.#run(task);

  /** Every awaited handler's outcome: one function for all runs, not a closure per event. */
  readonly #awaited = (run: EventRun, outcome: Outcome): void => this.#settle(run, outcome, run.started);

  /** Ends the event's job in the scheduler (its slot, and its key unless `result` holds it). */
  #jobDone(run: EventRun, result: JobResult): void {
    this.#o.scheduler.finish(run.task!, result);
  }

  /** The handler's outcome is known: the reply, the retry or the failure, then the job's end. */
  #settle(run: EventRun, outcome: Outcome, started: number): void {
    if (run.deadline) this.#deadlines.remove(run.deadline);
    const durationMs = performance.now() - started;
    // A message's reply is a frame: written, then proven (the slot is freed on the write).
    if (outcome.kind === 'returned' && run.routed.name === 'message') {
      this.stats.handled++;
      this.#replyMessage(run, outcome.value, durationMs);
      return;
    }
    this.#conclude(run, outcome, durationMs).then(
      (result) => this.#jobDone(run, result),
      (error: unknown) => {
        // Not expected (every step catches its own errors): said, and the job ends all the same.
        run.log().error({ err: error }, `the runner failed after ${run.entry.label}: ${errorText(error)}`);
        this.#jobDone(run, undefined);
      },
    );
  }

  /** Every outcome but a message's returned reply. */
  async #conclude(run: EventRun, outcome: Outcome, durationMs: number): Promise<JobResult> {
    const { routed, entry, attempt } = run;
    switch (outcome.kind) {
      case 'returned': {
        this.stats.handled++;
        const replied = await this.#reply(run, outcome.value);
        // A reply that cannot be (a bad value, or refused for good): kept in the dead-letter file
        // before the acknowledgement passes it.
        if (replied.report.kind === 'failed') await this.#failedForGood(run, replied.report.error);
        this.#finish(run, replied.acknowledge, replied.report, durationMs);
        return;
      }
      case 'threw': {
        const policy = this.#o.retry;
        if (policy && shouldRetry(policy, attempt, outcome.error)) {
          // Not done, not acknowledged, still claimed: it runs again, and its conversation waits for it.
          this.stats.retried++;
          const retryInMs = retryDelay(policy, attempt, outcome.error);
          run
            .log()
            .warn(
              { err: outcome.error, retryInMs },
              `${entry.label} failed for a passing reason on "${routed.name}" (attempt ${attempt} of ${policy.attempts}): ${errorText(outcome.error)}; running it again in ${retryInMs} ms`,
            );
          this.#report(
            {
              kind: 'retrying',
              error: outcome.error,
              attempt,
              retryInMs,
              routed,
              file: entry.label,
              durationMs,
            },
            run,
          );
          return { retryAfter: retryInMs };
        }
        this.stats.failed++;
        // Positions in the user's TypeScript, with the lines around the failing one (`at`, `frame`).
        const source = this.#o.registry.explain(outcome.error);
        run
          .log()
          .error(
            { err: outcome.error, ...source },
            `${entry.label} threw while handling "${routed.name}"${attempt > 1 ? ` (attempt ${attempt}, the last)` : ''}: ${errorText(outcome.error)}${source.at ? ` (at ${source.at})` : ''}`,
          );
        await this.#fail(run, outcome.error);
        await this.#failedForGood(run, outcome.error);
        this.#finish(run, true, { kind: 'failed', error: outcome.error }, durationMs);
        return;
      }
      case 'timeout':
        this.stats.timedOut++;
        run
          .log()
          .error(
            { err: outcome.error },
            `${entry.label} timed out handling "${routed.name}" after ${run.limit} ms; its ordering key is released`,
          );
        await this.#fail(run, outcome.error);
        await this.#failedForGood(run, outcome.error);
        this.#finish(run, true, { kind: 'timed-out', error: outcome.error }, durationMs);
        return;
      case 'shutdown':
        this.stats.aborted++;
        run
          .log()
          .warn(
            `${entry.label} was aborted by shutdown while handling "${routed.name}"; it was not acknowledged`,
          );
        this.#finish(run, false, { kind: 'aborted', error: outcome.error }, durationMs);
        return;
    }
  }

  /**
   * Sends a `message` handler's returned reply. The job settles once a socket took the frame: the
   * slot goes to the next event then (`HOLD`), while this conversation's key (the scheduler keeps it
   * until `unhold`) and the acknowledgement wait for the platform's proof.
   */
  #replyMessage(run: EventRun, value: unknown, durationMs: number): void {
    let frame: ClientFrame | undefined;
    try {
      const { employmentId } = run.routed.event as { employmentId: Id };
      frame = replyFrame(employmentId, value, run.entry.label, run.nextMessageId());
    } catch (error) {
      void this.#badReply(run, error, durationMs).then(() => this.#jobDone(run, undefined));
      return;
    }
    if (!frame) {
      this.#finish(run, true, { kind: 'no-reply', value }, durationMs);
      this.#jobDone(run, undefined);
      return;
    }
    const wait = new ProofWait(this, run, value, durationMs);
    const shutdown = this.#o.scheduler.shutdownSignal;
    if (shutdown.aborted) {
      this.#notProven(wait, shutdown.reason);
      return;
    }
    this.#proving.add(wait);
    try {
      const { deliver } = this.#o;
      if (deliver) deliver(frame, wait);
      else
        this.#confirmed(frame, () => wait.written()).then(
          () => wait.resolve(),
          (error: unknown) => wait.reject(error as Error),
        );
    } catch (error) {
      wait.reject(error as Error);
    }
  }

  static {
    settleProof = (pipeline, wait, error) => {
      if (error === undefined) pipeline.#proven(wait);
      else pipeline.#notProven(wait, error);
    };
    proofWritten = (pipeline, wait) => pipeline.#jobDone(wait.run, HOLD);
  }

  /** A reply's proof came: the event is done (and the job, for a sender that cannot say when it wrote). */
  #proven(wait: ProofWait): void {
    if (wait.over) return;
    wait.over = true;
    this.#proving.delete(wait);
    this.#jobDone(wait.run, HOLD);
    // The conversation's next message first (it may be waiting in the same socket read as this
    // proof), then the acknowledgement and the outcome of this one: they are not on its way.
    this.#o.scheduler.unhold(wait.run.task!);
    this.#replied(wait.run, wait.value, wait.durationMs);
  }

  /** A reply not proven: refused, its socket gone for good, or shutdown gave up waiting for it. */
  #notProven(wait: ProofWait, error: unknown): void {
    if (wait.over) return;
    wait.over = true;
    this.#proving.delete(wait);
    const settled = this.#unproven(wait.run, error, wait.durationMs);
    const { scheduler } = this.#o;
    const task = wait.run.task!;
    this.#jobDone(wait.run, HOLD);
    if (settled) void settled.then(() => scheduler.unhold(task));
    else scheduler.unhold(task);
  }

  /** A message reply the platform proved it has: the event is done. */
  #replied(run: EventRun, value: unknown, durationMs: number): void {
    this.stats.replies++;
    const { routed } = run;
    const { employmentId, messageId } = routed.event as { employmentId: Id; messageId: string };
    if (this.#o.logger.isLevelEnabled('debug'))
      run.log().debug(`replied: message into employment ${employmentId}`);
    this.#o.ledger.acknowledge(employmentId, messageId);
    // Built once, in full: no report object spread into the outcome on the path every reply takes.
    if (this.#o.onOutcome)
      this.#report(
        {
          kind: 'replied',
          value,
          action: `message into employment ${employmentId}`,
          routed,
          file: run.entry.label,
          attempt: run.attempt,
          durationMs,
        },
        run,
      );
  }

  /** A message reply not proven: unsent (not acknowledged), or refused for good (failed, a dead letter first). */
  #unproven(run: EventRun, error: unknown, durationMs: number): Promise<void> | undefined {
    const replied = this.#unsent(run, error);
    if (replied.report.kind !== 'failed') {
      this.#finish(run, replied.acknowledge, replied.report, durationMs);
      return undefined;
    }
    return this.#failedForGood(run, replied.report.error).then(() =>
      this.#finish(run, replied.acknowledge, replied.report, durationMs),
    );
  }

  /** A returned value that is not a reply for its event (`E_REPLY`): failed, a dead letter. */
  async #badReply(run: EventRun, error: unknown, durationMs: number): Promise<void> {
    const replied = await this.#replyError(run, error);
    if (replied.report.kind === 'failed') await this.#failedForGood(run, replied.report.error);
    this.#finish(run, replied.acknowledge, replied.report, durationMs);
  }

  /** Sends a `ctx.reply`/`ctx.send` message for a run; resolves once a socket took it. */
  async #sendMessage(run: EventRun, employmentId: Id, content: MessageContent): Promise<void> {
    // A handler past its deadline must not send late replies that would overtake newer ones.
    if (run.stopped) throw run.reason;
    await this.#track(messageFrame(employmentId, content, run.nextMessageId()), run);
    this.stats.replies++;
  }

  /**
   * Calls the handler. What it returned or threw when it answered synchronously; else the promise of
   * its value (a rejection is what it threw).
   */
  #handle(routed: RoutedEvent, entry: HandlerEntry, ctx: Context): Outcome | PromiseLike<unknown> {
    // A notification without the id its reply needs: found over REST first (find-ids.ts).
    // Not for the fallback (connect, a webhook): it forwards the frame exactly as it came, as the
    // public client does, and a reply of its answer looks for the id when it is sent.
    const lookup =
      entry.file === this.#o.fallback?.file ? undefined : completeReplyId(routed, entry.label, this.#o.api);
    if (lookup) return this.#handleAfter(lookup, entry, ctx);
    let value: unknown;
    try {
      value = this.#invoke(entry, ctx);
    } catch (error) {
      return { kind: 'threw', error };
    }
    return isThenable(value) ? value : { kind: 'returned', value };
  }

  /** The handler's call: in this thread, or in a worker thread (`workers`, runner/workers/). */
  #invoke(entry: HandlerEntry, ctx: Context): unknown {
    const { executor } = this.#o;
    return executor ? executor.run(entry, ctx) : entry.handle(ctx);
  }

  async #handleAfter(lookup: Promise<void>, entry: HandlerEntry, ctx: Context): Promise<unknown> {
    await lookup;
    return this.#invoke(entry, ctx);
  }

  /** The end of an event: acknowledged (or its claim released) and reported. */
  #finish(run: EventRun, acknowledge: boolean, report: Report, durationMs: number): void {
    const { routed } = run;
    if (acknowledge && routed.name === 'message')
      this.#o.ledger.acknowledge(routed.event.employmentId, routed.event.messageId);
    // Not acknowledged means not done: forget the id so a redelivery or catch-up runs it again.
    if (!acknowledge) {
      const key = dedupeKey(routed);
      if (key !== undefined) this.#o.ledger.release(key);
    }
    if (!this.#o.onOutcome) return;
    this.#report({ ...report, routed, file: run.entry.label, attempt: run.attempt, durationMs }, run);
  }

  /**
   * The platform refused for good a message a handler sent with `ctx.reply`/`ctx.send` (its call had
   * already resolved): the event it was sent for counts as failed and goes to the dead-letter file,
   * once, even if it was acknowledged meanwhile. `false` when the message is not one of those (a
   * returned reply: its own send rejects and fails the event).
   */
  undeliverable(messageId: string, error: Error): boolean {
    const run = this.#sentBy.get(messageId);
    if (!run) return false;
    this.#sentBy.delete(messageId);
    if (run.failed) return true;
    run.failed = true;
    this.stats.replyErrors++;
    run
      .log()
      .error(
        { err: error },
        `a message ${run.entry.label} sent with ctx.reply/ctx.send for "${run.routed.name}" is undeliverable: ${errorText(error)}; the event counts as failed — change what the handler sends, then run: c4c-runner replay`,
      );
    void this.#failedForGood(run, error);
    return true;
  }

  #track(frame: ClientFrame, run: EventRun): Promise<unknown> {
    const sent = this.#o.send(frame);
    if (frame.type !== 'message') return sent;
    const remember = (id: string): void => {
      this.#sentBy.set(id, run);
      if (this.#sentBy.size > SENT_BY_LIMIT) this.#sentBy.delete(this.#sentBy.keys().next().value!);
    };
    if (frame.messageId) remember(frame.messageId);
    else
      sent.then(
        (written) => {
          const id = (written as { messageId?: unknown } | undefined)?.messageId;
          if (typeof id === 'string') remember(id);
        },
        () => {},
      );
    return sent;
  }

  /** An event that failed for good: `onFailure` (the config's `onError`, the dead-letter file) sees it. */
  async #failedForGood(run: EventRun, error: unknown): Promise<void> {
    const { onFailure } = this.#o;
    if (!onFailure) return;
    try {
      await onFailure({ routed: run.routed, file: run.entry.label, error, attempts: run.attempt });
    } catch (failure) {
      run
        .log()
        .error(
          { err: failure },
          `the failure of ${run.entry.label} could not be recorded: ${errorText(failure)}`,
        );
    }
  }

  #report(outcome: EventOutcome, run: EventRun): void {
    const { onOutcome } = this.#o;
    if (!onOutcome) return;
    try {
      onOutcome(outcome);
    } catch (error) {
      run.log().warn({ err: error }, `an outcome observer threw: ${errorText(error)}`);
    }
  }

  /** Sends the reply of an event other than `message` (a platform action over REST). */
  async #reply(run: EventRun, value: unknown): Promise<Replied> {
    try {
      const result = await deliver(run.routed, value, run.entry.label, {
        send: (frame) => this.#track(frame, run),
        api: this.#o.api,
      });
      if (!result.sent) return { acknowledge: true, report: { kind: 'no-reply', value } };
      this.stats.replies++;
      if (this.#o.logger.isLevelEnabled('debug')) run.log().debug(`replied: ${result.action}`);
      return { acknowledge: true, report: { kind: 'replied', value, action: result.action } };
    } catch (error) {
      return this.#replyError(run, error);
    }
  }

  /** A reply that failed: invalid for its event (`E_REPLY`: failed), or not sent. */
  async #replyError(run: EventRun, error: unknown): Promise<Replied> {
    if (isC4cError(error, 'E_REPLY')) {
      this.stats.replyErrors++;
      run.log().error({ err: error }, error.message);
      // The caller of a service waits for a result: an output that cannot be sent is a failure.
      await this.#fail(run, error);
      return { acknowledge: true, report: { kind: 'failed', error } };
    }
    return this.#unsent(run, error);
  }

  /**
   * A reply that could not be sent (or was not proven): the event stays unacknowledged — unless the
   * platform refused it for good, then it failed (acknowledged, a dead letter).
   */
  #unsent(run: EventRun, error: unknown): Replied {
    this.stats.replyErrors++;
    const { entry, routed } = run;
    if (isUndeliverable(error)) {
      // Sent again unchanged it would be refused again; left unacknowledged, the next reply in its
      // employment would move the read cursor past it and nobody would ever hear of it.
      run
        .log()
        .error(
          { err: error, platformCode: error.platformCode },
          `the reply of ${entry.label} to "${routed.name}" is undeliverable: ${errorText(error)}; the event counts as failed — change what the handler returns (e.g. shorten it), then run: c4c-runner replay`,
        );
      return { acknowledge: true, report: { kind: 'failed', error } };
    }
    run
      .log()
      .error(
        { err: error },
        `the reply of ${entry.label} to "${routed.name}" could not be sent: ${errorText(error)}`,
      );
    return { acknowledge: false, report: { kind: 'unsent', error } };
  }

  /** A failed service invocation is submitted as `failed`, so its caller is not left waiting. */
  async #fail(run: EventRun, error: unknown): Promise<void> {
    const { routed, entry } = run;
    if (routed.name !== 'service-invoked') return;
    try {
      const id = await submitFailure(routed, error, entry.label, this.#o.api);
      this.stats.replies++;
      run.log().info(`invocation ${id} submitted as failed`);
    } catch (submitError) {
      this.stats.replyErrors++;
      run
        .log()
        .error(
          { err: submitError },
          `could not submit the failure of "${routed.name}" from ${entry.label}: ${errorText(submitError)}`,
        );
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A returned message reply between its send and its proof, and the connection's {@link Settle} for
 * it: the write frees the job's slot (the scheduler keeps the conversation's key), the proof or the
 * refusal ends the event and gives the key back.
 */
class ProofWait implements Settle {
  /** Proven or not: the first answer counts. */
  over = false;
  /** Its neighbours in the pipeline's list of waits. */
  prev: ProofWait | undefined = undefined;
  next: ProofWait | undefined = undefined;

  constructor(
    readonly pipeline: Pipeline,
    readonly run: EventRun,
    readonly value: unknown,
    readonly durationMs: number,
  ) {}

  written(): void {
    proofWritten(this.pipeline, this);
  }

  resolve(): void {
    settleProof(this.pipeline, this, undefined);
  }

  reject(error: Error): void {
    settleProof(this.pipeline, this, error ?? new Error('the reply was not sent'));
  }
}

/**
 * The replies waiting for their proof, as a doubly linked list through the waits themselves: adding
 * and removing allocate nothing (a `Set` that grows and shrinks by the number in flight rehashes as
 * it goes).
 */
class ProofWaits {
  #head: ProofWait | undefined;

  add(wait: ProofWait): void {
    wait.next = this.#head;
    if (this.#head) this.#head.prev = wait;
    this.#head = wait;
  }

  delete(wait: ProofWait): void {
    if (wait.prev) wait.prev.next = wait.next;
    else if (this.#head === wait) this.#head = wait.next;
    else return; // not in the list
    if (wait.next) wait.next.prev = wait.prev;
    wait.prev = wait.next = undefined;
  }

  /** Empties the list and returns what was in it. */
  takeAll(): ProofWait[] {
    const all: ProofWait[] = [];
    for (let wait = this.#head; wait; wait = wait.next) all.push(wait);
    for (const wait of all) wait.prev = wait.next = undefined;
    this.#head = undefined;
    return all;
  }
}

/** `ctx.reply`/`ctx.send` messages remembered for a refusal (the connection matches refusals among its last 256 writes). */
const SENT_BY_LIMIT = 1_024;
