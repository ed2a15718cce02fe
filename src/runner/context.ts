/**
 * `ctx`: what a handler receives. Its `event` type follows from the handler's event name, through
 * the one `EventMap` of src/protocol/events.ts.
 */
import type { Id } from '../protocol/ids.js';
import type { ApiClient } from '../api/client.js';
import type { Logger } from '../log.js';
import type { EventMap, EventName } from '../protocol/events.js';
import type { MessageMetadata } from '../protocol/frames.js';
import type { ConversationState } from '../state/conversation.js';
import type { HistoryEntry, HistoryOptions } from '../state/history.js';

/** A message to send: its content, or content with metadata. */
export type MessageContent = string | { content: string; metadata?: MessageMetadata };

/**
 * The context of one event, given to its handler. Message handlers also get
 * {@link MessageContextExtras.history | `ctx.history()`}.
 */
export type Context<E extends EventName = EventName> = BaseContext<E> &
  ([E] extends ['message'] ? MessageContextExtras : unknown);

/** What a message handler gets besides the {@link BaseContext}. */
export interface MessageContextExtras {
  /**
   * The employment's messages before the one being handled, oldest first, from the agent's point of
   * view (`role: 'agent'` for what it sent) — ready for an LLM prompt. Read from the platform.
   * @example
   * const turns = await ctx.history({ limit: 20 });
   * const prompt = turns.map((m) => ({ role: m.role === 'agent' ? 'assistant' : 'user', content: m.content }));
   */
  history(options?: HistoryOptions): Promise<HistoryEntry[]>;
}

/** The context every handler gets, whatever its event. */
export interface BaseContext<E extends EventName = EventName> {
  /** The event's name (= the handler file's name). */
  readonly name: E;
  /** The event, typed for its name. */
  readonly event: EventMap[E];
  /** The handler file handling it (absolute path). */
  readonly file: string;
  /**
   * Sends a message into the event's employment (message events, employment events, read receipts).
   * Returning the reply from the handler does the same for `message`; use this for extra messages.
   */
  reply(content: MessageContent): Promise<void>;
  /** Sends a message into any employment of this agent. */
  send(employmentId: Id, content: MessageContent): Promise<void>;
  /** The platform's REST API, as this agent. */
  readonly api: ApiClient;
  /** A logger bound to this event (event, messageId, file). */
  readonly log: Logger;
  /** Aborted when the handler times out or the runner shuts down; pass it to fetch and friends. */
  readonly signal: AbortSignal;
  /**
   * The event's employment's state, kept as JSON across events, reloads and (with the file store of
   * `start`) restarts. Costs nothing until used. Events without an employment reject every call.
   * @example
   * const seen = await ctx.state.update<number>((n) => (n ?? 0) + 1);
   */
  readonly state: ConversationState;
}
