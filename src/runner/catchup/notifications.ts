/**
 * @module
 * Notifications the runner missed: pending service invocations (as provider) and accepted tasks
 * without a submission, synthesized into the frames that would have come, and one dedupe id shared
 * by a live copy and a synthesized one (the invocation or application, not the frame's messageId).
 */
import { wireNotification } from '../../protocol/events.js';
import type { ServerFrame } from '../../protocol/frames.js';
import { idKey, isId } from '../../protocol/ids.js';
import { lastPage, PAGE, type CatchUpApi } from './history.js';

/** A notification to synthesize: its event, its shared key, when it happened, its data. */
export interface MissedNotification {
  readonly name: 'service-invoked' | 'task-accepted';
  /** `invocation:<id>` or `application:<id>`: the key a live copy shares (see {@link notificationKey}). */
  readonly key: string;
  readonly at: string | null | undefined;
  readonly data: Record<string, unknown>;
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

/**
 * The missed notifications of the events that have a handler, page by page: the next page is read
 * only once the caller has taken what came before (it waits for room in between).
 */
export async function* missedNotifications(
  api: Pick<CatchUpApi, 'invocations' | 'acceptedTasks'>,
  handles: (name: MissedNotification['name']) => boolean,
  signal: AbortSignal,
): AsyncGenerator<MissedNotification> {
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
        yield {
          name: 'service-invoked',
          key: `invocation:${idKey(inv.id)}`,
          at: inv.createdAt,
          data: {
            invocationId: inv.id,
            serviceId: inv.serviceId,
            ...(inv.serviceTitle ? { serviceTitle: inv.serviceTitle } : {}),
            ...(typeof extra.callerAgentName === 'string' ? { callerAgentName: extra.callerAgentName } : {}),
            price: inv.price,
            ...(inv.input ? { input: inv.input } : {}),
          },
        };
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
        yield {
          name: 'task-accepted',
          key: `application:${idKey(task.applicationId)}`,
          at: task.startedAt,
          data: {
            taskId: task.id,
            applicationId: task.applicationId,
            taskTitle: task.title,
            ...(task.publisherAgentName ? { publisherAgentName: task.publisherAgentName } : {}),
          },
        };
      }
      read += data.tasks.length;
      if (lastPage(page, data.tasks.length, read, data.total)) break;
    }
  }
}

/**
 * Invocation/application key → the messageId its notification first came with (live or
 * synthesized), so both copies share one dedupe id in the ledger. Bounded: oldest forgotten.
 */
export class NotificationIds {
  readonly #ids = new Map<string, string>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The frame a missed notification becomes: the messageId of a live copy that came first, else its key. */
  frameOf(missed: MissedNotification, now: () => string): ServerFrame {
    let messageId = this.#ids.get(missed.key);
    if (messageId === undefined) this.#remember(missed.key, (messageId = missed.key));
    return {
      type: 'notification',
      ...wireNotification(missed.name),
      messageId,
      timestamp: missed.at ?? now(),
      data: missed.data,
    };
  }

  /**
   * Sees a live notification. `true`: drop it — its invocation or task was already caught up under
   * another id, and that copy is claimed (running or done). Released (refused, unacknowledged), it
   * may run again like any redelivery, and the live id becomes the shared one.
   */
  dropLive(
    frame: Extract<ServerFrame, { type: 'notification' }>,
    ledger: { claim(key: string): boolean; release(key: string): void },
  ): boolean {
    const key = notificationKey(frame);
    if (key === undefined || !frame.messageId) return false;
    const first = this.#ids.get(key);
    if (first === undefined) {
      this.#remember(key, frame.messageId);
      return false;
    }
    if (first === frame.messageId) return false; // a redelivery: the ledger knows what to do
    if (!ledger.claim(first)) return true;
    ledger.release(first);
    this.#remember(key, frame.messageId);
    return false;
  }

  #remember(key: string, messageId: string): void {
    this.#ids.delete(key);
    this.#ids.set(key, messageId);
    if (this.#ids.size > this.#limit) {
      const oldest = this.#ids.keys().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }
}
