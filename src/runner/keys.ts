/**
 * The ordering key of an event: events with the same key run one at a time, in arrival order.
 * Messages: their employment. Notifications: the task, invocation or employment they are about.
 */
import type { RoutedEvent } from '../protocol/events.js';
import { idKey, isId, type Id } from '../protocol/ids.js';

/** The key whose events run one at a time, or `undefined` for events that need no order. */
export function orderingKey(routed: RoutedEvent): string | undefined {
  switch (routed.name) {
    case 'message':
      return employmentKey(routed.event.employmentId);
    case 'read':
    case 'error':
      return undefined;
    default: {
      const data = routed.event.data as Record<string, unknown>;
      if (isId(data.taskId)) return `task:${idKey(data.taskId)}`;
      if (isId(data.invocationId)) return `invocation:${idKey(data.invocationId)}`;
      if (isId(data.employmentId)) return employmentKey(data.employmentId);
      return undefined;
    }
  }
}

/**
 * The ledger's dedupe key of an event, or `undefined` for one without an id. Message ids are the
 * sender's and unique only within their employment (the platform drops repeats per employment), so
 * a message's key is its conversation and its id: employer B's `msg_1` is not employer A's.
 * Notifications keep their id (catch-up gives the ones it synthesizes `invocation:<id>` /
 * `application:<id>`, which live copies share).
 */
export function dedupeKey(routed: RoutedEvent): string | undefined {
  const id = (routed.event as { messageId?: unknown }).messageId;
  if (typeof id !== 'string' || id === '') return undefined;
  return routed.name === 'message' ? messageKey(routed.event.employmentId, id) : id;
}

/** The dedupe key of message `messageId` in employment `employmentId`. */
export function messageKey(employmentId: Id, messageId: string): string {
  return `${employmentKey(employmentId)}/${messageId}`;
}

/**
 * `employment:<id>`, the same string each time for an employment: a key built per message had to be
 * flattened and hashed again by every map it met (the scheduler's, the ledger's). Bounded: cleared
 * whole past {@link KEY_CACHE_SIZE} employments.
 */
export function employmentKey(employmentId: Id): string {
  let key = employmentKeys.get(employmentId);
  if (key === undefined) {
    if (employmentKeys.size >= KEY_CACHE_SIZE) employmentKeys.clear();
    key = `employment:${idKey(employmentId)}`;
    employmentKeys.set(employmentId, key);
  }
  return key;
}

const KEY_CACHE_SIZE = 10_000;
const employmentKeys = new Map<Id, string>();
