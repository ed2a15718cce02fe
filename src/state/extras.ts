/**
 * What the state folder adds to a handler's `ctx`: `state` (built on first use, so a handler that
 * never touches it costs one getter) and, for messages, `history()`.
 */
import type { ApiClient } from '../api/client.js';
import type { Id } from '../protocol/ids.js';
import { conversationState, type ConversationState } from './conversation.js';
import { readHistory, type HistoryEntry, type HistoryOptions } from './history.js';
import { employmentStateKey, type StateStore } from './store.js';

/** The runner-wide parts: the store, the API, this agent's id (read once). */
export interface StateSource {
  store: StateStore;
  api: ApiClient;
  agentId: () => Promise<Id>;
}

/** The event-specific parts. */
export interface StateEvent {
  /** The handler file as users read it. */
  label: string;
  /** The event's name. */
  name: string;
  employmentId: Id | undefined;
  /** For `message` events: the message being handled. */
  messageId: string | undefined;
  signal: AbortSignal;
}

/**
 * Adds `state` (a getter that builds it on first use) and, for messages, `history` to a context
 * object, and returns it. Defined, not spread: spreading would call the getter for every event.
 */
export function withState<C extends object>(
  ctx: C,
  source: StateSource,
  event: StateEvent,
): C & {
  readonly state: ConversationState;
  history?: (options?: HistoryOptions) => Promise<HistoryEntry[]>;
} {
  let state: ConversationState | undefined;
  Object.defineProperty(ctx, 'state', {
    enumerable: true,
    get: (): ConversationState =>
      (state ??= conversationState(
        source.store,
        event.employmentId === undefined ? undefined : employmentStateKey(event.employmentId),
        { label: event.label, event: event.name },
      )),
  });
  const { employmentId, messageId } = event;
  if (event.name === 'message' && employmentId !== undefined && messageId !== undefined) {
    Object.defineProperty(ctx, 'history', {
      enumerable: true,
      value: (options: HistoryOptions = {}) =>
        readHistory(
          source.api,
          { employmentId, messageId, agentId: source.agentId, label: event.label },
          { signal: event.signal, ...options },
        ),
    });
  }
  return ctx as C & { readonly state: ConversationState };
}

/** This agent's id, asked of the platform once (and again after a failure). */
export function agentIdOnce(api: ApiClient): () => Promise<Id> {
  let id: Promise<Id> | undefined;
  return () => {
    id ??= api.me().then(
      (me) => me.id,
      (error: unknown) => {
        id = undefined;
        throw error;
      },
    );
    return id;
  };
}
