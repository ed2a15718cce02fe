/**
 * One event's run and the `ctx` its handler gets, as two small classes: every per-event piece (the
 * child logger, the AbortController, the reply-id counter, `ctx.state`, `ctx.api`) is a field made
 * on first use and every operation a method on the prototype. The closures they replace — a dozen
 * per event, each with its own context object — and the objects those kept alive were most of the
 * runner's allocation per reply, and the garbage collector's share of its CPU
 * (docs/benchmarks.md, "Where the time goes").
 */
import type { ApiClient } from '../api/client.js';
import { C4cError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RoutedEvent } from '../protocol/events.js';
import type { Id } from '../protocol/ids.js';
import { conversationState, type ConversationState } from '../state/conversation.js';
import type { StateSource } from '../state/extras.js';
import { readHistory, type HistoryEntry, type HistoryOptions } from '../state/history.js';
import { employmentStateKey } from '../state/store.js';
import type { Context, MessageContent } from './context.js';
import type { Deadline } from './deadlines.js';
import { observed, observedApi } from './observe.js';
import type { HandlerEntry } from './registry.js';
import { replyMessageId } from './reply-ids.js';
import type { TaskHandle } from './scheduler.js';

/** What the handler came to: its value, its error, or a stop. */
export type Outcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timeout'; error: C4cError }
  | { kind: 'shutdown'; error: unknown };

type Stop = Exclude<Outcome, { kind: 'returned' | 'threw' }>;

/**
 * One attempt at one event: its handler's stop state (deadline, shutdown, the signal made only when
 * read), its log, and the ids of the messages it sends. Also who sent a `ctx.reply`/`ctx.send`
 * message, for a refusal that comes after the call resolved (`failed`: counted once).
 */
export class EventRun {
  readonly routed: RoutedEvent;
  readonly entry: HandlerEntry;
  readonly attempt: number;
  readonly limit: number;
  /** Already counted as failed for a refusal (one dead letter per event, however many were refused). */
  failed = false;
  /** Its place in the pipeline's deadline list while the handler runs. */
  deadline: Deadline<EventRun> | undefined;
  /** Its job in the scheduler, ended by the pipeline (`Scheduler.finish`); set when it starts. */
  task: TaskHandle | undefined;
  /** When the handler was called, `performance.now()`. */
  started = 0;
  readonly #logger: Logger;
  #child: Logger | undefined;
  #controller: AbortController | undefined;
  #stopped: Stop | undefined;
  #next: ((run: EventRun, outcome: Outcome) => void) | undefined;
  /** Messages sent so far: the next one's deterministic id is derived from this index. */
  #sent = 0;

  constructor(routed: RoutedEvent, entry: HandlerEntry, attempt: number, limit: number, logger: Logger) {
    this.routed = routed;
    this.entry = entry;
    this.attempt = attempt;
    this.limit = limit;
    this.#logger = logger;
  }

  /** The event's own `messageId`, when it has one. */
  get messageId(): string | undefined {
    return messageIdOf(this.routed);
  }

  /**
   * The logger bound to this event: the ids an operator searches by. Made on first use: a child
   * logger per event (its bindings serialised and redacted by pino) was ~5 µs per reply, and most
   * events never log.
   */
  log(): Logger {
    return (this.#child ??= this.#logger.child({
      event: this.routed.name,
      ...(this.messageId === undefined ? {} : { messageId: this.messageId }),
      ...eventIds(this.routed),
      file: this.entry.label,
      ...(this.attempt > 1 ? { attempt: this.attempt } : {}),
    }));
  }

  /**
   * The id of the next message this run sends: derived from the event's id and the message's
   * position, so a second run after a crash sends the same ids, which the platform drops
   * (reply-ids.ts). `undefined` for an event without an id (the message gets a random one).
   */
  nextMessageId(): string | undefined {
    const source = this.messageId;
    return source === undefined ? undefined : replyMessageId(source, this.#sent++);
  }

  /** Whether the deadline passed or shutdown stopped it. */
  get stopped(): boolean {
    return this.#stopped !== undefined;
  }

  /** Why it was stopped (the signal's reason). */
  get reason(): unknown {
    return this.#stopped?.error;
  }

  /** Made when first read: an AbortController per event was ~5 µs per reply, and most handlers never look. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#stopped.error);
    }
    return this.#controller.signal;
  }

  /**
   * Calls `next` (with this run) once with the outcome of the handler's promise (its value, or what it threw), or
   * with the stop if that comes first (a deadline, shutdown). A callback, not a promise raced
   * against the stop: one promise less per event.
   */
  await(pending: PromiseLike<unknown> | undefined, next: (run: EventRun, outcome: Outcome) => void): void {
    if (this.#stopped) {
      next(this, this.#stopped);
      return;
    }
    this.#next = next;
    // `Promise.resolve` of a native promise is that promise; another thenable is adopted safely.
    void Promise.resolve(pending).then(
      (value) => this.#settle({ kind: 'returned', value }),
      (error: unknown) => this.#settle({ kind: 'threw', error }),
    );
  }

  /** The deadline passed. The error is built only now: an Error (its stack) per event was ~10% of the CPU. */
  timeout(): void {
    this.#stop({
      kind: 'timeout',
      error: new C4cError('E_HANDLER_TIMEOUT', `${this.entry.label} did not finish within ${this.limit} ms`, {
        details: { file: this.entry.label, event: this.routed.name },
      }),
    });
  }

  /** Shutdown gave up waiting for it. */
  shutdown(reason: unknown): void {
    this.#stop({ kind: 'shutdown', error: reason });
  }

  /**
   * A promise handed to the handler was rejected and nobody awaited it: logged here against the
   * handler and its event, instead of an unhandled rejection that would end the process.
   */
  unobserved(error: unknown, call: string): void {
    if (call === 'ctx.reply' || call === 'ctx.send')
      this.log().warn({ err: error }, `a message from ${this.entry.label} was not sent: ${errorText(error)}`);
    else
      this.log().warn(
        { err: error, call },
        `${call}() from ${this.entry.label} failed and was not awaited: ${errorText(error)}`,
      );
  }

  #stop(outcome: Stop): void {
    if (this.#stopped) return;
    this.#stopped = outcome;
    this.#controller?.abort(outcome.error);
    this.#settle(outcome);
  }

  #settle(outcome: Outcome): void {
    const next = this.#next;
    this.#next = undefined;
    next?.(this, outcome);
  }
}

/** What every `ctx` shares with its pipeline. */
export interface ContextHost {
  /** The platform's API client (`ctx.api` is an observed view of it). */
  readonly api: ApiClient;
  /** Where `ctx.state` and `ctx.history()` read from. */
  readonly state: StateSource;
  /** Sends a message for a run (`ctx.reply`, `ctx.send`); resolves once a socket took it. */
  sendMessage(run: EventRun, employmentId: Id, content: MessageContent): Promise<void>;
}

/** `ctx` for any event: its getters build what they return on first use. */
class EventContext {
  readonly name: Context['name'];
  readonly event: Context['event'];
  readonly file: string;
  readonly #run: EventRun;
  readonly #host: ContextHost;
  #api: ApiClient | undefined;
  #state: ConversationState | undefined;
  #employment: Id | undefined | null = null;

  constructor(run: EventRun, host: ContextHost) {
    // The handler's own name: `notification.ts` sees 'notification' (the log binding keeps the precise one).
    this.name = run.entry.name;
    this.event = run.routed.event;
    this.file = run.entry.file;
    this.#run = run;
    this.#host = host;
  }

  /** A view per event whose calls a forgotten `await` cannot turn into a crash (observe.ts). */
  get api(): ApiClient {
    return (this.#api ??= observedApi(this.#host.api, (error, call) => this.#run.unobserved(error, call)));
  }

  get log(): Logger {
    return this.#run.log();
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }

  get state(): ConversationState {
    const employmentId = this.#employmentId;
    return (this.#state ??= conversationState(
      this.#host.state.store,
      employmentId === undefined ? undefined : employmentStateKey(employmentId),
      { label: this.#run.entry.label, event: this.#run.routed.name },
    ));
  }

  send(employmentId: Id, content: MessageContent): Promise<void> {
    return observed(this.#host.sendMessage(this.#run, employmentId, content), 'ctx.send', (error, call) =>
      this.#run.unobserved(error, call),
    );
  }

  reply(content: MessageContent): Promise<void> {
    const employmentId = this.#employmentId;
    const run = this.#run;
    const sent =
      employmentId === undefined
        ? Promise.reject<void>(
            new C4cError(
              'E_REPLY',
              `${run.entry.label}: ctx.reply() needs an event with an employment, and "${run.routed.name}" has none; use ctx.send(employmentId, content)`,
            ),
          )
        : this.#host.sendMessage(run, employmentId, content);
    return observed(sent, 'ctx.reply', (error, call) => run.unobserved(error, call));
  }

  /** The event's employment, if it has one (read once). */
  get #employmentId(): Id | undefined {
    if (this.#employment === null) this.#employment = employmentOf(this.#run.routed);
    return this.#employment;
  }

  /** `ctx.history()` of a message's context (a static, so that no instance shows more than its type says). */
  static history(ctx: EventContext, options: HistoryOptions): Promise<HistoryEntry[]> {
    const run = ctx.#run;
    const { api, agentId } = ctx.#host.state;
    return readHistory(
      api,
      { employmentId: ctx.#employmentId!, messageId: run.messageId!, agentId, label: run.entry.label },
      { signal: run.signal, ...options },
    );
  }
}

/** `ctx` for a message: also `history()`. */
class MessageEventContext extends EventContext {
  history(options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    return EventContext.history(this, options);
  }
}

/** The `ctx` of a run. */
export function contextOf(run: EventRun, host: ContextHost): Context {
  const { routed } = run;
  if (routed.name === 'message' && employmentOf(routed) !== undefined && run.messageId !== undefined) {
    return new MessageEventContext(run, host);
  }
  return new EventContext(run, host);
}

/** The event's `messageId`, when it has a non-empty one. */
export function messageIdOf(routed: RoutedEvent): string | undefined {
  const id = (routed.event as { messageId?: unknown }).messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The employment an event is about, when it names a valid one. */
export function employmentOf(routed: RoutedEvent): number | undefined {
  const event = routed.event as { employmentId?: unknown; data?: Record<string, unknown> };
  const raw = event.employmentId ?? event.data?.employmentId;
  const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined;
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

/** An error's message, or the value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
