/**
 * Catch-up: what arrived while the runner was away. The platform pushes a message only to sockets
 * open at the time (docs/protocol.md, "WebSocket frames": an offline receiver finds its messages in history), so at start and
 * after every reconnect the runner reads, for each active employment, the history messages addressed
 * to it that are still unread (the read cursor is the ledger's durable acknowledgement), and feeds
 * them to the pipeline in chronological order, as if they had just arrived. Pending service
 * invocations and accepted tasks without a submission are synthesized into the notification
 * frames the runner missed, when a handler exists for them.
 *
 * Order per employment: while an employment is being caught up, its live message frames are held
 * and released after its history, so a live message never overtakes an older unread one. The
 * ledger's dedupe by `messageId` drops a message that arrives both ways. When history cannot be
 * read, the employment's live messages stay held and the pass is tried again (1 s, doubling to
 * 30 s): one handled meanwhile would be acknowledged and move the read cursor past the unread ones.
 */
import type { ApiClient } from '../api/client.js';
import { isC4cError, PlatformError } from '../errors.js';
import type { Logger } from '../log.js';
import { wireNotification, type EventName } from '../protocol/events.js';
import { messageFrameSchema, rfc3339, type ServerFrame } from '../protocol/frames.js';
import type { HistoryMessage } from '../protocol/rest.js';
import { idKey, idNumber, isId, sameId, type Id } from '../protocol/ids.js';

/** What catch-up is wired to. */
export interface CatchUpOptions {
  api: ApiClient;
  /** Hands a frame to the pipeline (dedupe, route, schedule); `false` when it refused it (backlog full). */
  accept: (frame: ServerFrame) => boolean;
  /** Claims a dedupe key in the ledger; `false` when it was already claimed. */
  claim: (key: string) => boolean;
  /** Forgets a claim. */
  release: (key: string) => void;
  /** Whether an event has somewhere to go (a handler file, the catch-all, a fallback). */
  handles: (name: EventName) => boolean;
  /** Resolves once the scheduler can take one more event (or `signal` aborts); catch-up waits on it. */
  waitForRoom: (signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Live frames held at most, over all employments; beyond it the employment is read again. @default 10_000 */
  holdLimit?: number;
  /** Employments caught up at once. @default 4 */
  parallel?: number;
  /** First pause before a failed pass is tried again, ms (doubles up to 30 s). @default 1_000 */
  retryDelay?: number;
}

/** Counters since start. */
export interface CatchUpStats {
  /** Passes started (one at start, one per reconnect, plus retries). */
  passes: number;
  /** Unread messages found in history and handed to the pipeline. */
  messages: number;
  /** Notifications synthesized (pending invocations, accepted tasks). */
  notifications: number;
  /** Live frames held back while their employment was caught up. */
  held: number;
  /** Passes or employments that failed (retried). */
  failures: number;
}

const PAGE = 100;
/** Unread messages kept in memory per employment during a walk; beyond it, pages are read twice. */
const KEEP_UNREAD = 1_000;
/** Longest pause between two tries of a failed pass. */
const MAX_RETRY_DELAY = 30_000;

/**
 * Whether page `page` (1-based) of a paged list was the last: it came back empty, or the items read
 * so far reach `total`. Reckoned with the items actually read, never the page size the platform
 * echoes (a `limit: 0` echoed back would otherwise never reach the total), and never past
 * MAX_PAGES, so a platform that misreports cannot keep the runner paging for ever.
 */
function lastPage(page: number, items: number, read: number, total: number): boolean {
  return items === 0 || read >= total || page >= MAX_PAGES;
}

/** Pages of one list read at most in one pass (100,000 items at 100 a page). */
const MAX_PAGES = 1_000;

/** A page of history on the way back: its cursor, and its unread messages (newest first) while few. */
interface UnreadPage {
  before: string | undefined;
  messages: HistoryMessage[] | undefined;
}

/** The messages of a page (newest first) addressed to `me` and unread, up to the first read one. */
function unreadOf(
  messages: readonly HistoryMessage[],
  me: Id,
): { unread: HistoryMessage[]; reachedRead: boolean } {
  const unread: HistoryMessage[] = [];
  for (const message of messages) {
    if (!sameId(message.receiverAgentId, me)) continue;
    if (message.readAt) return { unread, reachedRead: true };
    unread.push(message);
  }
  return { unread, reachedRead: false };
}

/** One runner's catch-up: `run()` on every open, `filter()` on every live frame, `close()` once. */
export class CatchUp {
  readonly stats: CatchUpStats = { passes: 0, messages: 0, notifications: 0, held: 0, failures: 0 };
  readonly #o: CatchUpOptions;
  readonly #holdLimit: number;
  /** Live message frames waiting for their employment's catch-up, in arrival order. */
  readonly #held = new Map<number, ServerFrame[]>();
  /** Employments whose live frames are held (being caught up). */
  readonly #holding = new Set<number>();
  /** Employments whose held frames overflowed: their history is read again before release. */
  readonly #dirty = new Set<number>();
  #heldCount = 0;
  /** The last catch-up problem logged per employment, so a retry that meets it again does not repeat it. */
  readonly #problems = new Map<number, string>();
  /** Employments with a repair (a refused message: read history again) waiting or running. */
  readonly #repairing = new Set<number>();
  /**
   * Invocation/application key → the messageId its notification first came with (live or
   * synthesized), so both copies share one dedupe id in the ledger. Bounded: oldest forgotten.
   */
  readonly #notificationIds = new Map<string, string>();
  readonly #notificationLimit: number;
  /** Until the list of employments is known, every live message is held. */
  #holdAll = false;
  #me: Id | undefined;
  #pass: Promise<void> = Promise.resolve();
  #controller: AbortController | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retries = 0;
  #closed = false;
  #pending = false;

  constructor(options: CatchUpOptions) {
    this.#o = options;
    this.#holdLimit = options.holdLimit ?? 10_000;
    this.#notificationLimit = options.holdLimit ?? 10_000;
  }

  /**
   * Sees a live frame before the pipeline. `true` when catch-up took it (held for later, or a
   * duplicate of a caught-up notification); `false` when the pipeline should take it now.
   */
  filter(frame: ServerFrame): boolean {
    if (this.#closed) return false;
    if (frame.type === 'notification') return this.#liveNotification(frame);
    if (frame.type !== 'message') return false;
    const id = idNumber(frame.employmentId);
    if (!this.#holdAll && !this.#holding.has(id)) return false;
    if (this.#heldCount >= this.#holdLimit) {
      // Not held, not lost: it stays unread on the platform and the next read of history finds it.
      this.#dirty.add(id);
      this.#holding.add(id);
      return true;
    }
    let list = this.#held.get(id);
    if (!list) this.#held.set(id, (list = []));
    list.push(frame);
    this.#heldCount++;
    this.stats.held++;
    return true;
  }

  /**
   * Takes a live frame: held while its employment is caught up, else handed to the pipeline. A
   * message the pipeline refuses (backlog full) must not be passed by the read cursor when a later
   * one is acknowledged, so its employment is held and read again from history once there is room.
   */
  deliver(frame: ServerFrame): void {
    if (this.filter(frame)) return;
    if (!this.#o.accept(frame) && frame.type === 'message' && !this.#closed)
      this.#repair(idNumber(frame.employmentId));
  }

  /** Whether a pass is running or waiting for a retry: the readiness check's "catching up". */
  get pending(): boolean {
    return this.#pending;
  }

  /** Starts a pass (at start and after every reconnect); a pass still running is stopped first. */
  run(): void {
    if (this.#closed) return;
    this.#pending = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    // Held from now: a live message must not overtake the unread ones the pass is about to find.
    this.#holdAll = true;
    // What an earlier socket's held list says is no guide on this one: messages stored while there
    // was no socket sit between those frames and the next live ones, in neither place. Everything
    // held is still unread on the platform, so the pass reads it all from history, in order.
    this.#forgetHeld();
    const previous = this.#pass;
    this.#pass = (async () => {
      await previous;
      if (controller.signal.aborted) return;
      await this.#runPass(controller.signal);
    })();
  }

  /** Stops: no more passes, nothing held. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#controller?.abort();
    await this.#pass;
    // The pipeline takes nothing more; what was held stays unread and is caught up at the next start.
    this.#held.clear();
    this.#holding.clear();
    this.#heldCount = 0;
    this.#holdAll = false;
  }

  async #runPass(signal: AbortSignal): Promise<void> {
    const { logger } = this.#o;
    this.stats.passes++;
    const started = Date.now();
    const before = { messages: this.stats.messages, notifications: this.stats.notifications };
    let failed = false;
    try {
      const me = await this.#agentId(signal);
      const employments = await this.#activeEmployments(signal);
      for (const id of employments) this.#holding.add(id);
      this.#holdAll = false;
      // Live messages of employments that are not active for the platform (or new) go on at once.
      await this.#releaseAllBut(new Set(employments), signal);

      const queue = [...employments];
      const worker = async (): Promise<void> => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          if (signal.aborted) return;
          try {
            await this.#employment(id, me, signal);
            this.#problems.delete(id);
          } catch (error) {
            if (signal.aborted) return;
            if (gone(error)) {
              // Ended or no longer ours since the list was read: nothing to catch up, nothing to retry.
              logger.debug({ employmentId: id }, `employment ${id} is gone: ${text(error)}`);
              await this.#release(id, signal);
              continue;
            }
            failed = true;
            this.stats.failures++;
            // Still held: a live message handled now would be acknowledged, and the read cursor would
            // pass the unread ones history could not show. Order and nothing lost come before liveness.
            // The same problem again (each retry) is logged once at warn, then at debug.
            const problem = text(error);
            const repeated = this.#problems.get(id) === problem;
            this.#problems.set(id, problem);
            logger[repeated ? 'debug' : 'warn'](
              { err: error, employmentId: id },
              `could not catch up employment ${id}: ${problem}; its messages wait until a retry succeeds`,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.#o.parallel ?? 4) }, worker));
      if (signal.aborted) return;
      await this.#notifications(signal);
    } catch (error) {
      if (signal.aborted || this.#closed) return;
      failed = true;
      this.stats.failures++;
      // What is held stays held (see above); before the list of employments is known, that is every message.
      logger.warn(
        { err: error },
        `catch-up failed: ${text(error)}; held messages wait until a retry succeeds`,
      );
    }
    if (signal.aborted || this.#closed) return;
    const found = this.stats.messages - before.messages;
    const notes = this.stats.notifications - before.notifications;
    if (found + notes > 0 || failed) {
      logger.info(
        { messages: found, notifications: notes, ms: Date.now() - started },
        `caught up ${found} unread message(s) and ${notes} notification(s) from while the runner was away`,
      );
    } else logger.debug({ ms: Date.now() - started }, 'catch-up: nothing unread');
    if (failed) this.#retryLater();
    else {
      this.#retries = 0;
      this.#pending = false;
    }
  }

  #retryLater(): void {
    const delay = Math.min(MAX_RETRY_DELAY, (this.#o.retryDelay ?? 1_000) * 2 ** this.#retries);
    this.#retries++;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.run();
    }, delay);
    this.#retryTimer.unref();
  }

  async #agentId(signal: AbortSignal): Promise<Id> {
    this.#me ??= (await this.#o.api.me({ signal })).id;
    return this.#me;
  }

  /** Active employments on either side: the platform delivers messages to employers and employees alike. */
  async #activeEmployments(signal: AbortSignal): Promise<number[]> {
    const ids: number[] = [];
    let read = 0;
    for (let page = 1; ; page++) {
      const data = await this.#o.api.employments(
        { role: 'all', status: 'active', page, limit: PAGE },
        { signal },
      );
      for (const e of data.employments)
        if (e.status === 'active' && !ids.includes(idNumber(e.id))) ids.push(idNumber(e.id));
      read += data.employments.length;
      if (lastPage(page, data.employments.length, read, data.total)) return ids;
    }
  }

  /** One employment: its unread messages in order, then its held live frames, then live again. */
  async #employment(id: number, me: Id, signal: AbortSignal): Promise<void> {
    do {
      // Frames were dropped after the held ones: history has them all, in order, so it alone is used.
      if (this.#dirty.has(id)) this.#dropHeld(id);
      this.#dirty.delete(id);
      if (this.#o.handles('message')) {
        const pages = await this.#walk(id, me, signal);
        // The socket delivers in order: from the first held message on, the rest of history is held
        // or still on its way (and will be held), so it goes from the held list, after this.
        const held = new Set(this.#held.get(id)?.map((f) => (f as { messageId?: string }).messageId));
        for await (const message of this.#oldestFirst(id, me, pages, signal)) {
          if (held.has(message.messageId)) break;
          await this.#waitForRoom(signal);
          if (signal.aborted) return;
          if (!this.#o.accept(toFrame(message))) {
            this.#refusedDuring(id);
            break;
          }
          this.stats.messages++;
        }
      }
      await this.#drainHeld(id, signal);
    } while (this.#dirty.has(id) && !signal.aborted);
    if (!signal.aborted) this.#holding.delete(id);
  }

  /**
   * Walks history back to the read cursor: pages come newest first, and the read cursor marks a
   * prefix of what the agent received, so the first read message ends the walk. Pages keep their
   * unread messages while they are few; past KEEP_UNREAD only their cursors are kept (a flood
   * while the runner was away must not fill memory) and they are read again on the way forward.
   */
  async #walk(id: number, me: Id, signal: AbortSignal): Promise<UnreadPage[]> {
    const pages: UnreadPage[] = [];
    const cursors = new Set<string>();
    let kept = 0;
    let before: string | undefined;
    for (;;) {
      const page = await this.#o.api.messages(id, { limit: PAGE, ...(before ? { before } : {}) }, { signal });
      const { unread, reachedRead } = unreadOf(page.messages, me);
      if (unread.length > 0) {
        kept += unread.length;
        pages.push({ before, messages: kept <= KEEP_UNREAD ? unread : undefined });
      }
      if (reachedRead || !page.hasMore || !page.nextCursor) return pages;
      // A cursor seen before would walk in a circle for ever (and keep every page it read).
      if (cursors.has(page.nextCursor) || page.messages.length === 0) {
        throw new PlatformError(
          200,
          'CURSOR_STUCK',
          `the history of employment ${id} says "more" but its cursor does not advance (${JSON.stringify(page.nextCursor)}); reading it again later`,
          { details: { employmentId: id, cursor: page.nextCursor } },
        );
      }
      cursors.add(page.nextCursor);
      before = page.nextCursor;
    }
  }

  /** The walked pages' unread messages, oldest first, reading again the pages that kept only a cursor. */
  async *#oldestFirst(
    id: number,
    me: Id,
    pages: UnreadPage[],
    signal: AbortSignal,
  ): AsyncGenerator<HistoryMessage> {
    for (let i = pages.length - 1; i >= 0; i--) {
      const { before } = pages[i]!;
      let messages = pages[i]!.messages;
      if (!messages) {
        const page = await this.#o.api.messages(
          id,
          { limit: PAGE, ...(before ? { before } : {}) },
          { signal },
        );
        messages = unreadOf(page.messages, me).unread;
      }
      for (let j = messages.length - 1; j >= 0; j--) yield messages[j]!;
    }
  }

  /** Releases the held frames of an employment in order; frames arriving meanwhile join the end. */
  async #drainHeld(id: number, signal: AbortSignal): Promise<void> {
    const list = this.#held.get(id);
    while (list && list.length > 0) {
      await this.#waitForRoom(signal);
      if (signal.aborted) return;
      const frame = list.shift()!;
      this.#heldCount--;
      if (!this.#o.accept(frame)) {
        this.#refusedDuring(id);
        return;
      }
    }
    this.#held.delete(id);
  }

  /** Refused while being caught up: what is still held is unread on the platform; read it again. */
  #refusedDuring(id: number): void {
    this.#dropHeld(id);
    this.#dirty.add(id);
  }

  #forgetHeld(): void {
    for (const list of this.#held.values()) list.length = 0;
    this.#held.clear();
    this.#heldCount = 0;
    this.#dirty.clear();
  }

  #dropHeld(id: number): void {
    this.#heldCount -= this.#held.get(id)?.length ?? 0;
    this.#held.delete(id);
  }

  /** Holds an employment and reads its history again after whatever pass is running. */
  #repair(id: number): void {
    this.#holding.add(id);
    this.#dirty.add(id);
    if (this.#repairing.has(id)) return;
    this.#repairing.add(id);
    const signal = (this.#controller ??= new AbortController()).signal;
    const previous = this.#pass;
    this.#pass = (async () => {
      await previous;
      try {
        if (signal.aborted || this.#closed) return;
        await this.#waitForRoom(signal);
        await this.#employment(id, await this.#agentId(signal), signal);
      } catch (error) {
        if (signal.aborted || this.#closed) return;
        if (gone(error)) {
          await this.#release(id, signal);
          return;
        }
        this.stats.failures++;
        this.#o.logger.warn(
          { err: error, employmentId: id },
          `could not read employment ${id} again after a refused message: ${text(error)}; its messages wait until a retry succeeds`,
        );
        this.#retryLater();
      } finally {
        this.#repairing.delete(id);
      }
    })();
  }

  /** Stops holding an employment after its catch-up failed: live frames flow again, in order. */
  async #release(id: number, signal: AbortSignal): Promise<void> {
    await this.#drainHeld(id, signal);
    if (!signal.aborted) this.#holding.delete(id);
  }

  async #releaseAllBut(keep: Set<number>, signal: AbortSignal): Promise<void> {
    for (const id of [...this.#held.keys()]) {
      if (keep.has(id)) continue;
      await this.#drainHeld(id, signal);
      if (signal.aborted) return;
    }
    for (const id of [...this.#holding]) if (!keep.has(id)) this.#holding.delete(id);
  }

  /** Pending invocations (as provider) and accepted tasks without a submission, as the notifications missed. */
  async #notifications(signal: AbortSignal): Promise<void> {
    const { api, handles } = this.#o;
    if (handles('service-invoked')) {
      let read = 0;
      for (let page = 1; ; page++) {
        const data = await api.invocations(
          { role: 'provider', status: 'pending', page, limit: PAGE },
          { signal },
        );
        for (const inv of data.invocations) {
          if (inv.status !== 'pending' || inv.role === 'caller') continue;
          const extra = inv as { callerAgentName?: unknown };
          await this.#synthesize(
            'service-invoked',
            `invocation:${idKey(inv.id)}`,
            inv.createdAt,
            {
              invocationId: inv.id,
              serviceId: inv.serviceId,
              ...(inv.serviceTitle ? { serviceTitle: inv.serviceTitle } : {}),
              ...(typeof extra.callerAgentName === 'string'
                ? { callerAgentName: extra.callerAgentName }
                : {}),
              price: inv.price,
              ...(inv.input ? { input: inv.input } : {}),
            },
            signal,
          );
        }
        read += data.invocations.length;
        if (lastPage(page, data.invocations.length, read, data.total)) break;
      }
    }
    if (handles('task-accepted')) {
      let read = 0;
      for (let page = 1; ; page++) {
        const data = await api.acceptedTasks({ page, limit: PAGE }, { signal });
        for (const task of data.tasks) {
          await this.#synthesize(
            'task-accepted',
            `application:${idKey(task.applicationId)}`,
            task.startedAt,
            {
              taskId: task.id,
              applicationId: task.applicationId,
              taskTitle: task.title,
              ...(task.publisherAgentName ? { publisherAgentName: task.publisherAgentName } : {}),
            },
            signal,
          );
        }
        read += data.tasks.length;
        if (lastPage(page, data.tasks.length, read, data.total)) break;
      }
    }
  }

  async #synthesize(
    name: 'service-invoked' | 'task-accepted',
    key: string,
    at: string | null | undefined,
    data: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#waitForRoom(signal);
    if (signal.aborted) return;
    // The messageId a live copy came with, if one did: the ledger then drops whichever copy comes second.
    let messageId = this.#notificationIds.get(key);
    if (messageId === undefined) this.#remember(key, (messageId = key));
    const frame: ServerFrame = {
      type: 'notification',
      ...wireNotification(name),
      messageId,
      timestamp: at ?? rfc3339(),
      data,
    };
    if (this.#o.accept(frame)) this.stats.notifications++;
  }

  /**
   * A live `service_invoked` / `task_application_accepted` whose invocation or task was already
   * caught up under another id is dropped while that copy is claimed (running or done); released
   * (refused, unacknowledged), it may run again like any redelivery.
   */
  #liveNotification(frame: Extract<ServerFrame, { type: 'notification' }>): boolean {
    const key = notificationKey(frame);
    if (key === undefined || !frame.messageId) return false;
    const first = this.#notificationIds.get(key);
    if (first === undefined) {
      this.#remember(key, frame.messageId);
      return false;
    }
    if (first === frame.messageId) return false; // a redelivery: the ledger knows what to do
    if (!this.#o.claim(first)) return true;
    this.#o.release(first);
    this.#remember(key, frame.messageId);
    return false;
  }

  #remember(key: string, messageId: string): void {
    this.#notificationIds.delete(key);
    this.#notificationIds.set(key, messageId);
    if (this.#notificationIds.size > this.#notificationLimit) {
      const oldest = this.#notificationIds.keys().next().value;
      if (oldest !== undefined) this.#notificationIds.delete(oldest);
    }
  }

  #waitForRoom(signal: AbortSignal): Promise<void> {
    return this.#o.waitForRoom(signal);
  }
}

/** The dedupe key shared by a live notification and its caught-up copy, if it has one. */
export function notificationKey(frame: {
  domain: string;
  event: string;
  data: Record<string, unknown>;
}): string | undefined {
  const invoked = wireNotification('service-invoked');
  const accepted = wireNotification('task-accepted');
  if (frame.domain === invoked.domain && frame.event === invoked.event && isId(frame.data.invocationId)) {
    return `invocation:${idKey(frame.data.invocationId)}`;
  }
  if (frame.domain === accepted.domain && frame.event === accepted.event && isId(frame.data.applicationId)) {
    return `application:${idKey(frame.data.applicationId)}`;
  }
  return undefined;
}

/** A history message as the live frame it would have been. */
function toFrame(message: HistoryMessage): ServerFrame {
  const base = {
    type: 'message' as const,
    employmentId: message.employmentId,
    messageId: message.messageId,
    timestamp: message.createdAt,
    content: message.content,
  };
  if (message.metadata) {
    // History keeps whatever metadata the sender sent; a shape the frame schema refuses is left out.
    const withMetadata = messageFrameSchema.safeParse({ ...base, metadata: message.metadata });
    if (withMetadata.success) return withMetadata.data;
  }
  return base;
}

/** The platform says the employment is not there (any more) for this agent. */
function gone(error: unknown): boolean {
  if (!(error instanceof PlatformError)) return false;
  return (
    error.status === 404 || error.status === 403 || /NOT_FOUND|FORBIDDEN|NOT_ACTIVE/.test(error.platformCode)
  );
}

function text(error: unknown): string {
  if (isC4cError(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** The runner's parts catch-up needs, for {@link createCatchUp}. */
export interface CatchUpParts {
  api: ApiClient;
  registry: { get(name: EventName): unknown };
  /** The fallback handler, if any: it takes caught-up messages (not synthesized notifications). */
  fallback: unknown;
  pipeline: { accept(frame: ServerFrame): 'accepted' | 'duplicate' | 'unhandled' | 'refused' };
  scheduler: { waitForRoom(below: number, signal?: AbortSignal): Promise<void> };
  ledger: { claim(id: string): boolean; release(id: string): void };
  /** The scheduler's backlog limit: catch-up fills at most half of it, leaving room for live events. */
  backlog: number;
  logger: Logger;
}

/** Wires catch-up to a runner's registry, pipeline, scheduler and ledger. */
export function createCatchUp(parts: CatchUpParts): CatchUp {
  const { registry } = parts;
  const limit = Math.max(1, Math.floor(parts.backlog / 2));
  return new CatchUp({
    api: parts.api,
    accept: (frame) => parts.pipeline.accept(frame) !== 'refused',
    claim: (key) => parts.ledger.claim(key),
    release: (key) => parts.ledger.release(key),
    handles: (name) =>
      name === 'message'
        ? Boolean(registry.get('message') ?? parts.fallback)
        : Boolean(registry.get(name) ?? registry.get('notification')),
    waitForRoom: (signal) => parts.scheduler.waitForRoom(limit, signal),
    logger: parts.logger,
    holdLimit: parts.backlog,
  });
}
