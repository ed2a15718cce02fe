/**
 * `ctx`: what a handler receives. Its `event` type follows from the handler's event name, through
 * the one `EventMap` of src/protocol/events.ts.
 */
import type { Id } from '../protocol/ids.js';
import type { ApiClient } from '../api/client.js';
import type { Logger } from '../log.js';
import type { EventMap, EventName } from '../protocol/events.js';
import type { MessageMetadata } from '../protocol/frames.js';

/** A message to send: its content, or content with metadata. */
export type MessageContent = string | { content: string; metadata?: MessageMetadata };

/** The context of one event, given to its handler. */
export interface Context<E extends EventName = EventName> {
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
}
