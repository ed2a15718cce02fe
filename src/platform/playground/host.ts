/**
 * @module
 * What the playground page reads: one live feed of what the platform sees (messages, notifications,
 * frames, connections, refusals) merged with what a host plugs in — `dev`'s status feed (handlers and
 * their outcomes) and an emitter (the page's event buttons). The platform never imports the runner or
 * the other party's client: the host hands them over through {@link PlaygroundHost.attach}.
 */
import type { PlatformEvents } from '../events.js';
import type { Core } from '../core.js';
import { notificationEventName } from '../../protocol/events.js';

/** One handler file as the handlers panel shows it. */
export interface HandlerStatus {
  /** `handlers/message.ts` */
  file: string;
  /** The event it handles, when known. */
  event?: string;
  state: 'loaded' | 'failed';
  /** Why it failed to load, for `failed`. */
  error?: string;
}

/** One outcome line, as `dev` prints it (see src/dev/outcome-format.ts). */
export interface OutcomeStatus {
  /** The handler's event name. */
  event: string;
  ok: boolean;
  text: string;
  /** The employment of a message event, so the page can put the line under its chat. */
  employmentId?: number;
  /** Ids from the event's data (taskId, invocationId, employmentId), so the page can match a raise. */
  ids?: Record<string, number>;
}

/** What a dev session tells the page: its handlers now, and each change and outcome as it happens. */
export interface DevStatusFeed {
  handlers(): HandlerStatus[];
  /** Calls `listener` on every change of the handlers and every outcome; returns the unsubscribe. */
  subscribe(
    listener: (update: { type: 'handlers' } | { type: 'outcome'; outcome: OutcomeStatus }) => void,
  ): () => void;
}

/** Raises an event for an agent the way `c4c-runner emit` does (the page's buttons). */
export interface PlaygroundEmitter {
  /** The events it can raise, in button order. */
  events: readonly string[];
  raise(event: string, agentId: number): Promise<Record<string, unknown>>;
}

/** A feed entry: one JSON object per server-sent event. `seq` orders them. */
export type FeedEntry = { seq: number; at: string } & (
  | { type: 'message'; employmentId: number; senderAgentId: number; content: string; messageId: string }
  | { type: 'notification'; agentId: number; event: string; data: Record<string, unknown>; delivered: number }
  | { type: 'connection' | 'disconnect'; agentId: number }
  | { type: 'rejected'; agentId: number; code: string; message: string }
  | { type: 'read'; employmentId: number; readerAgentId: number }
  | { type: 'outcome'; outcome: OutcomeStatus }
  | { type: 'handlers'; handlers: HandlerStatus[] }
);

type Entry = FeedEntry extends infer E ? (E extends FeedEntry ? Omit<E, 'seq' | 'at'> : never) : never;

/** Kept for a page that opens late: the log starts with what happened just before. */
const BACKLOG = 200;

/** The playground's side of the platform: the feed, the attached status and emitter. */
export class PlaygroundHost {
  readonly #listeners = new Set<(entry: FeedEntry) => void>();
  readonly #recent: FeedEntry[] = [];
  #seq = 0;
  #status: DevStatusFeed | undefined;
  #unsubscribe: (() => void) | undefined;
  #emitter: PlaygroundEmitter | undefined;

  constructor(core: Core) {
    const { events } = core;
    const on = <K extends keyof PlatformEvents>(
      name: K,
      map: (...args: PlatformEvents[K]) => Entry | undefined,
    ) =>
      events.on(name, ((...args: PlatformEvents[K]) => {
        const entry = map(...args);
        if (entry) this.#publish(entry);
      }) as never);
    on('message', (m) => ({
      type: 'message',
      employmentId: m.employmentId,
      senderAgentId: m.senderAgentId,
      content: m.content,
      messageId: m.messageId,
    }));
    on('notification', ({ agentId, frame, delivered }) => ({
      type: 'notification',
      agentId,
      event: notificationEventName(frame.domain, frame.event) ?? frame.event,
      data: frame.data,
      delivered,
    }));
    on('connection', ({ agentId }) => ({ type: 'connection', agentId }));
    on('disconnect', ({ agentId }) => ({ type: 'disconnect', agentId }));
    on('rejected', ({ agentId, code, message }) => ({ type: 'rejected', agentId, code, message }));
    on('read', ({ employmentId, readerAgentId }) => ({ type: 'read', employmentId, readerAgentId }));
  }

  /** Plugs in `dev`'s status feed and an emitter; each replaces the previous one. */
  attach(parts: { status?: DevStatusFeed; emitter?: PlaygroundEmitter }): void {
    if (parts.emitter) this.#emitter = parts.emitter;
    if (parts.status) {
      this.#unsubscribe?.();
      const status = parts.status;
      this.#status = status;
      this.#unsubscribe = status.subscribe((update) =>
        this.#publish(update.type === 'outcome' ? update : { type: 'handlers', handlers: status.handlers() }),
      );
      this.#publish({ type: 'handlers', handlers: status.handlers() });
    }
  }

  /** The handlers panel's rows, or `undefined` when no dev session is attached (a lone platform). */
  handlers(): HandlerStatus[] | undefined {
    return this.#status?.handlers();
  }

  get emitter(): PlaygroundEmitter | undefined {
    return this.#emitter;
  }

  /** The last entries, oldest first. */
  recent(): readonly FeedEntry[] {
    return this.#recent;
  }

  /** Every entry from now on; returns the unsubscribe. */
  subscribe(listener: (entry: FeedEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#unsubscribe?.();
    this.#listeners.clear();
  }

  #publish(entry: Entry): void {
    const full: FeedEntry = { ...entry, seq: ++this.#seq, at: new Date().toISOString() };
    this.#recent.push(full);
    if (this.#recent.length > BACKLOG) this.#recent.shift();
    for (const listener of this.#listeners) listener(full);
  }
}
