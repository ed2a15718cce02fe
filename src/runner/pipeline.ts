/**
 * The pipeline from a decoded frame to a sent reply:
 * frame → event → dedupe (ledger) → route (registry) → schedule (scheduler) → handler(ctx) → reply → ack.
 * A handler that throws, times out or returns a bad reply is logged with its event and file, and
 * the pipeline goes on.
 */
import type { ApiClient } from '../api/client.js';
import { isUndeliverable } from '../connection/delivery.js';
import { C4cError, isC4cError } from '../errors.js';
import type { Logger } from '../log.js';
import { toEvent, type RoutedEvent } from '../protocol/events.js';
import type { ClientFrame, ServerFrame } from '../protocol/frames.js';
import type { Context, MessageContent } from './context.js';
import { dedupeKey, orderingKey } from './keys.js';
import type { Ledger } from './ledger.js';
import type { HandlerEntry, HandlerRegistry } from './registry.js';
import { replySenders, untilAborted } from './reply-ids.js';
import { deliver, messageFrame, submitFailure } from './replies.js';
import type { Scheduler } from './scheduler.js';
import { completeReplyId } from './find-ids.js';
import { observed, observedApi } from './observe.js';
import { retryDelay, shouldRetry, type HandlerFailure, type RetryPolicy } from './retry.js';
import { agentIdOnce, withState, type StateSource } from '../state/extras.js';
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
   * that follows never outruns the reply. @default `send`
   */
  sendConfirmed?: (frame: ClientFrame) => Promise<unknown>;
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

type Outcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timeout'; error: C4cError }
  | { kind: 'shutdown'; error: unknown };

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

/** Frames in, handlers run, replies out: one per runner. */
export class Pipeline {
  readonly stats: PipelineStats = emptyPipelineStats();
  readonly #o: PipelineOptions;
  readonly #state: StateSource;
  #accepting = true;
  /**
   * The events that recent `ctx.reply`/`ctx.send` messages were sent for, by messageId: those calls
   * resolve once written, and a refusal for good comes after. Bounded: a refusal names one of the
   * last frames written (the connection keeps only those to match it).
   */
  readonly #sentBy = new Map<string, SentBy>();

  constructor(options: PipelineOptions) {
    this.#o = options;
    const { api } = options;
    this.#state = { store: options.state ?? new MemoryStateStore(), api, agentId: agentIdOnce(api) };
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
      let attempt = 0;
      scheduler.schedule(orderingKey(routed), () => this.#run(routed, entry, ++attempt));
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

  async #run(
    routed: RoutedEvent,
    queued: HandlerEntry,
    attempt: number,
  ): Promise<void | { retryAfter: number }> {
    // The newest version of the handler when its turn comes (dev reloads); once started, it keeps it.
    const entry = this.#route(routed) ?? queued;
    const { logger, scheduler, ledger } = this.#o;
    const messageId = messageIdOf(routed);
    const key = dedupeKey(routed);
    // Every line a handler logs says which event it was about: the ids an operator searches by.
    const log = logger.child({
      event: routed.name,
      ...(messageId === undefined ? {} : { messageId }),
      ...eventIds(routed),
      file: entry.label,
      ...(attempt > 1 ? { attempt } : {}),
    });
    const limit = entry.timeout ?? this.#o.timeout;
    // One controller per event, aborted by its timer or by shutdown. Not `AbortSignal.any` with the
    // long-lived shutdown signal: on Node 20 that retains ~1 KB per event for the process lifetime.
    const controller = new AbortController();
    // Built when the timer fires, not per event: an Error (its stack) per event was ~10% of the
    // runner's CPU in the echo benchmark (docs/benchmarks.md).
    let timeoutError: C4cError | undefined;
    const timer = setTimeout(() => {
      timeoutError = new C4cError('E_HANDLER_TIMEOUT', `${entry.label} did not finish within ${limit} ms`, {
        details: { file: entry.label, event: routed.name },
      });
      controller.abort(timeoutError);
    }, limit);
    timer.unref();
    const shutdown = scheduler.shutdownSignal;
    const onShutdown = (): void => controller.abort(shutdown.reason);
    const { signal } = controller;
    // Replies get ids derived from this event's id: a second run after a crash sends the same ids, which the platform drops.
    // Waiting for the platform's proof ends with the drain: unproven, the message stays unacknowledged.
    const confirmed = untilAborted(this.#o.sendConfirmed ?? this.#o.send, shutdown);
    const by: SentBy = { routed, entry, attempt, log, failed: false };
    const track = (frame: ClientFrame): Promise<unknown> => this.#track(frame, by);
    const senders =
      messageId === undefined ? { send: track, confirmed } : replySenders(track, confirmed, messageId);
    const ctx = this.#context(routed, entry, log, signal, senders.send);

    let outcome: Outcome;
    let onAbort: (() => void) | undefined;
    const started = performance.now();
    try {
      if (shutdown.aborted) onShutdown();
      else shutdown.addEventListener('abort', onShutdown, { once: true });
      const aborted = new Promise<Outcome>((resolve) => {
        onAbort = () =>
          resolve(
            timeoutError !== undefined && signal.reason === timeoutError
              ? { kind: 'timeout', error: timeoutError }
              : { kind: 'shutdown', error: signal.reason },
          );
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      const handled = (async (): Promise<Outcome> => {
        try {
          // A notification without the id its reply needs: found over REST first (find-ids.ts). Not
          // for the fallback (connect, a webhook): it forwards the frame exactly as it came, as the
          // public client does, and a reply of its answer looks for the id when it is sent.
          const lookup =
            entry.file === this.#o.fallback?.file
              ? undefined
              : completeReplyId(routed, entry.label, this.#o.api);
          if (lookup) await lookup;
          return { kind: 'returned', value: await entry.handle(ctx) };
        } catch (error) {
          return { kind: 'threw', error };
        }
      })();
      // A handler that ignores its signal and hangs loses its slot and its key at the deadline.
      outcome = await Promise.race([handled, aborted]);
    } finally {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    const durationMs = performance.now() - started;
    let report: Omit<EventOutcome, 'routed' | 'file' | 'durationMs'>;

    let acknowledge = true;
    switch (outcome.kind) {
      case 'returned': {
        this.stats.handled++;
        const replied = await this.#reply(routed, entry, outcome.value, log, senders.confirmed);
        acknowledge = replied.acknowledge;
        report = replied.report;
        // A reply that cannot be (a bad value, or refused for good): kept in the dead-letter file
        // before the acknowledgement passes it.
        if (replied.report.kind === 'failed')
          await this.#failedForGood(routed, entry, replied.report.error, attempt, log);
        break;
      }
      case 'threw': {
        const policy = this.#o.retry;
        if (policy && shouldRetry(policy, attempt, outcome.error)) {
          // Not done, not acknowledged, still claimed: it runs again, and its conversation waits for it.
          this.stats.retried++;
          const retryInMs = retryDelay(policy, attempt, outcome.error);
          log.warn(
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
            log,
          );
          return { retryAfter: retryInMs };
        }
        this.stats.failed++;
        // Positions in the user's TypeScript, with the lines around the failing one (`at`, `frame`).
        const source = this.#o.registry.explain(outcome.error);
        log.error(
          { err: outcome.error, ...source },
          `${entry.label} threw while handling "${routed.name}"${attempt > 1 ? ` (attempt ${attempt}, the last)` : ''}: ${errorText(outcome.error)}${source.at ? ` (at ${source.at})` : ''}`,
        );
        report = { kind: 'failed', error: outcome.error };
        await this.#fail(routed, entry, outcome.error, log);
        await this.#failedForGood(routed, entry, outcome.error, attempt, log);
        break;
      }
      case 'timeout':
        this.stats.timedOut++;
        log.error(
          { err: outcome.error },
          `${entry.label} timed out handling "${routed.name}" after ${limit} ms; its ordering key is released`,
        );
        report = { kind: 'timed-out', error: outcome.error };
        await this.#fail(routed, entry, outcome.error, log);
        await this.#failedForGood(routed, entry, outcome.error, attempt, log);
        break;
      case 'shutdown':
        this.stats.aborted++;
        acknowledge = false;
        report = { kind: 'aborted', error: outcome.error };
        log.warn(
          `${entry.label} was aborted by shutdown while handling "${routed.name}"; it was not acknowledged`,
        );
        break;
    }
    if (acknowledge && routed.name === 'message')
      ledger.acknowledge(routed.event.employmentId, routed.event.messageId);
    // Not acknowledged means not done: forget the id so a redelivery or catch-up runs it again.
    if (!acknowledge && key !== undefined) ledger.release(key);
    this.#report({ ...report, attempt, routed, file: entry.label, durationMs }, log);
  }

  /**
   * The platform refused for good a message a handler sent with `ctx.reply`/`ctx.send` (its call had
   * already resolved): the event it was sent for counts as failed and goes to the dead-letter file,
   * once, even if it was acknowledged meanwhile. `false` when the message is not one of those (a
   * returned reply: its own send rejects and fails the event).
   */
  undeliverable(messageId: string, error: Error): boolean {
    const by = this.#sentBy.get(messageId);
    if (!by) return false;
    this.#sentBy.delete(messageId);
    if (by.failed) return true;
    by.failed = true;
    this.stats.replyErrors++;
    by.log.error(
      { err: error },
      `a message ${by.entry.label} sent with ctx.reply/ctx.send for "${by.routed.name}" is undeliverable: ${errorText(error)}; the event counts as failed — change what the handler sends, then run: c4c-runner replay`,
    );
    void this.#failedForGood(by.routed, by.entry, error, by.attempt, by.log);
    return true;
  }

  #track(frame: ClientFrame, by: SentBy): Promise<unknown> {
    const sent = this.#o.send(frame);
    if (frame.type !== 'message') return sent;
    const remember = (id: string): void => {
      this.#sentBy.set(id, by);
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
  async #failedForGood(
    routed: RoutedEvent,
    entry: HandlerEntry,
    error: unknown,
    attempts: number,
    log: Logger,
  ): Promise<void> {
    const { onFailure } = this.#o;
    if (!onFailure) return;
    try {
      await onFailure({ routed, file: entry.label, error, attempts });
    } catch (failure) {
      log.error(
        { err: failure },
        `the failure of ${entry.label} could not be recorded: ${errorText(failure)}`,
      );
    }
  }

  #report(outcome: EventOutcome, log: Logger): void {
    const { onOutcome } = this.#o;
    if (!onOutcome) return;
    try {
      onOutcome(outcome);
    } catch (error) {
      log.warn({ err: error }, `an outcome observer threw: ${errorText(error)}`);
    }
  }

  /** Sends the reply; `false` when it could not be sent (the event then stays unacknowledged). */
  async #reply(
    routed: RoutedEvent,
    entry: HandlerEntry,
    value: unknown,
    log: Logger,
    send: PipelineOptions['send'],
  ): Promise<{ acknowledge: boolean; report: Omit<EventOutcome, 'routed' | 'file' | 'durationMs'> }> {
    try {
      const result = await deliver(routed, value, entry.label, { send, api: this.#o.api });
      if (result.sent) {
        this.stats.replies++;
        log.debug(`replied: ${result.action}`);
        return { acknowledge: true, report: { kind: 'replied', value, action: result.action } };
      }
      return { acknowledge: true, report: { kind: 'no-reply', value } };
    } catch (error) {
      this.stats.replyErrors++;
      if (isC4cError(error, 'E_REPLY')) {
        log.error({ err: error }, error.message);
        // The caller of a service waits for a result: an output that cannot be sent is a failure.
        await this.#fail(routed, entry, error, log);
        return { acknowledge: true, report: { kind: 'failed', error } };
      }
      if (isUndeliverable(error)) {
        // Sent again unchanged it would be refused again; left unacknowledged, the next reply in its
        // employment would move the read cursor past it and nobody would ever hear of it.
        log.error(
          { err: error, platformCode: error.platformCode },
          `the reply of ${entry.label} to "${routed.name}" is undeliverable: ${errorText(error)}; the event counts as failed — change what the handler returns (e.g. shorten it), then run: c4c-runner replay`,
        );
        return { acknowledge: true, report: { kind: 'failed', error } };
      }
      log.error(
        { err: error },
        `the reply of ${entry.label} to "${routed.name}" could not be sent: ${errorText(error)}`,
      );
      return { acknowledge: false, report: { kind: 'unsent', error } };
    }
  }

  /** A failed service invocation is submitted as `failed`, so its caller is not left waiting. */
  async #fail(routed: RoutedEvent, entry: HandlerEntry, error: unknown, log: Logger): Promise<void> {
    if (routed.name !== 'service-invoked') return;
    try {
      const id = await submitFailure(routed, error, entry.label, this.#o.api);
      this.stats.replies++;
      log.info(`invocation ${id} submitted as failed`);
    } catch (submitError) {
      this.stats.replyErrors++;
      log.error(
        { err: submitError },
        `could not submit the failure of "${routed.name}" from ${entry.label}: ${errorText(submitError)}`,
      );
    }
  }

  #context(
    routed: RoutedEvent,
    entry: HandlerEntry,
    log: Logger,
    signal: AbortSignal,
    sendFrame: PipelineOptions['send'],
  ): Context {
    const platformApi = this.#o.api;
    const sendNow = async (employmentId: number, content: MessageContent): Promise<void> => {
      // A handler past its deadline must not send late replies that would overtake newer ones.
      if (signal.aborted) throw signal.reason;
      await sendFrame(messageFrame(employmentId, content));
      this.stats.replies++;
    };
    // A forgotten `await` must not turn a refused send (or a failed API call) into an unhandled
    // rejection that kills the process: one nobody observes is logged here against the handler and
    // its event; those who await it still see it reject.
    const unobserved = (error: unknown, call: string): void => {
      if (call === 'ctx.reply' || call === 'ctx.send')
        log.warn({ err: error }, `a message from ${entry.label} was not sent: ${errorText(error)}`);
      else
        log.warn(
          { err: error, call },
          `${call}() from ${entry.label} failed and was not awaited: ${errorText(error)}`,
        );
    };
    const send = (employmentId: number, content: MessageContent): Promise<void> =>
      observed(sendNow(employmentId, content), 'ctx.send', unobserved);
    let api: ApiClient | undefined;
    const ctx: Omit<Context, 'state'> = {
      // The handler's own event: `notification.ts` sees 'notification' (the log binding keeps the precise one).
      name: entry.name,
      event: routed.event,
      file: entry.file,
      // A view per event, made only for handlers that use it (most echo-like handlers do not).
      get api() {
        return (api ??= observedApi(platformApi, unobserved));
      },
      log,
      signal,
      send,
      reply: (content) => {
        const employmentId = employmentOf(routed);
        if (employmentId === undefined) {
          return observed(
            Promise.reject<void>(
              new C4cError(
                'E_REPLY',
                `${entry.label}: ctx.reply() needs an event with an employment, and "${routed.name}" has none; use ctx.send(employmentId, content)`,
              ),
            ),
            'ctx.reply',
            unobserved,
          );
        }
        return observed(sendNow(employmentId, content), 'ctx.reply', unobserved);
      },
    };
    // ctx.state (built on first use) and, for messages, ctx.history().
    return withState(ctx, this.#state, {
      label: entry.label,
      name: routed.name,
      employmentId: employmentOf(routed),
      messageId: messageIdOf(routed),
      signal,
    });
  }
}

/** Who sent a `ctx.reply`/`ctx.send` message: the event, its handler, the attempt. */
interface SentBy {
  readonly routed: RoutedEvent;
  readonly entry: HandlerEntry;
  readonly attempt: number;
  readonly log: Logger;
  /** Already counted as failed for a refusal (one dead letter per event, however many were refused). */
  failed: boolean;
}

/** `ctx.reply`/`ctx.send` messages remembered for a refusal (the connection matches refusals among its last 256 writes). */
const SENT_BY_LIMIT = 1_024;

function messageIdOf(routed: RoutedEvent): string | undefined {
  const id = (routed.event as { messageId?: unknown }).messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The ids of an event's subject (employment, invocation, application, task), for log lines. */
function eventIds(routed: RoutedEvent): Record<string, unknown> {
  const event = routed.event as { data?: Record<string, unknown> } & Record<string, unknown>;
  const ids: Record<string, unknown> = {};
  for (const key of ['employmentId', 'invocationId', 'applicationId', 'taskId'] as const) {
    const value = event[key] ?? event.data?.[key];
    if (value !== undefined && value !== null) ids[key] = value;
  }
  return ids;
}

function employmentOf(routed: RoutedEvent): number | undefined {
  const event = routed.event as { employmentId?: unknown; data?: Record<string, unknown> };
  const raw = event.employmentId ?? event.data?.employmentId;
  const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
