/**
 * The ordering key of an event: events with the same key run one at a time, in arrival order.
 * Messages: their employment. Notifications: the task, invocation or employment they are about.
 */
import type { RoutedEvent } from '../protocol/events.js';

/** The key whose events run one at a time, or `undefined` for events that need no order. */
export function orderingKey(routed: RoutedEvent): string | undefined {
  switch (routed.name) {
    case 'message':
      return `employment:${routed.event.employmentId}`;
    case 'read':
    case 'error':
      return undefined;
    default: {
      const data = routed.event.data as Record<string, unknown>;
      if (isId(data.taskId)) return `task:${data.taskId}`;
      if (isId(data.invocationId)) return `invocation:${data.invocationId}`;
      if (isId(data.employmentId)) return `employment:${data.employmentId}`;
      return undefined;
    }
  }
}

function isId(value: unknown): value is string | number {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value !== '');
}
