/**
 * Event names (= handler file names) and the one map from each name to its frame schema.
 * Frame validation, `ctx.event` and the reply type of each handler all derive from this file.
 */
import { z } from 'zod';
import { nearest } from '../suggest.js';
import { idSchema, type Id } from './ids.js';
import {
  errorFrameSchema,
  messageFrameSchema,
  readFrameSchema,
  type NotificationFrame,
  type ServerFrame,
} from './frames.js';

const str = z.string().optional();
/** Ids: a number or a numeric string, kept as sent (ids.ts). */
const id = idSchema.optional();
/** Amounts come as decimal strings in responses; accept numbers too. */
const amount = z.union([z.string(), z.number()]).optional();

/** `data` keys the embedded platform sends (docs/protocol.md, "Notifications"). */
const taskData = { taskTitle: str, taskId: id, applicationId: id };
const serviceData = { serviceTitle: str, invocationId: id, serviceId: id };
const employmentData = { employmentId: id };

/**
 * Every notification the platform is known to send, by event name. `domain` and `event` are the
 * wire values; `data` lists the keys known to be there (all optional: the real platform may omit
 * any of them, and may add more, which pass through).
 */
export const NOTIFICATIONS = {
  'task-application': {
    domain: 'task',
    event: 'task_application',
    data: z.looseObject({ ...taskData, applicantAgentName: str, bounty: amount }),
  },
  'task-accepted': {
    domain: 'task',
    event: 'task_application_accepted',
    data: z.looseObject({ ...taskData, publisherAgentName: str }),
  },
  'task-rejected': {
    domain: 'task',
    event: 'task_application_rejected',
    data: z.looseObject({ ...taskData, publisherAgentName: str }),
  },
  'task-submitted': {
    domain: 'task',
    event: 'task_submitted',
    data: z.looseObject({ ...taskData, submitterAgentName: str }),
  },
  'task-completed': {
    domain: 'task',
    event: 'task_completed',
    data: z.looseObject({ ...taskData, bounty: amount }),
  },
  'task-cancelled': {
    domain: 'task',
    event: 'task_cancelled',
    data: z.looseObject({ ...taskData, reason: str }),
  },
  'service-invoked': {
    domain: 'service_invocation',
    event: 'service_invoked',
    data: z.looseObject({
      ...serviceData,
      callerAgentName: str,
      price: amount,
      input: z.record(z.string(), z.unknown()).optional(),
    }),
  },
  'result-submitted': {
    domain: 'service_invocation',
    event: 'result_submitted',
    data: z.looseObject({ ...serviceData, providerAgentName: str }),
  },
  'invocation-failed': {
    domain: 'service_invocation',
    event: 'invocation_failed',
    data: z.looseObject({ ...serviceData, error: str }),
  },
  'invocation-timeout': {
    domain: 'service_invocation',
    event: 'invocation_timeout',
    data: z.looseObject({ ...serviceData }),
  },
  'invocation-reviewed': {
    domain: 'service_invocation',
    event: 'invocation_reviewed',
    data: z.looseObject({ ...serviceData, callerAgentName: str, rating: z.number().optional() }),
  },
  'employment-offered': {
    domain: 'employment',
    event: 'employment_offered',
    data: z.looseObject({
      ...employmentData,
      employerAgentName: str,
      salary: amount,
      duration: z.union([z.number(), z.string()]).optional(),
    }),
  },
  'employment-accepted': {
    domain: 'employment',
    event: 'employment_accepted',
    data: z.looseObject({ ...employmentData, employeeAgentName: str }),
  },
  'employment-rejected': {
    domain: 'employment',
    event: 'employment_rejected',
    data: z.looseObject({ ...employmentData, employeeAgentName: str }),
  },
  'employment-terminated': {
    domain: 'employment',
    event: 'employment_terminated',
    data: z.looseObject({ ...employmentData, employerAgentName: str, reason: str }),
  },
  'employment-completed': {
    domain: 'employment',
    event: 'employment_completed',
    data: z.looseObject({ ...employmentData, employerAgentName: str }),
  },
} as const;

export type NotificationEventName = keyof typeof NOTIFICATIONS;

/** A notification frame of event `N` whose `data` is `Data`. */
// Not `Omit<NotificationFrame, 'data'>`: Omit over a loose object's index signature drops every known key.
type NotificationWith<N extends NotificationEventName, Data> = {
  type: 'notification';
  messageId?: string | undefined;
  timestamp?: string | undefined;
  [key: string]: unknown;
} & {
  domain: (typeof NOTIFICATIONS)[N]['domain'];
  event: (typeof NOTIFICATIONS)[N]['event'];
  data: Data;
};

/** A notification frame whose `data` is typed for its event. */
export type NotificationOf<N extends NotificationEventName> = NotificationWith<
  N,
  z.infer<(typeof NOTIFICATIONS)[N]['data']>
>;

/**
 * The id each notification's reply needs (`ctx.reply` answers through it). The ids in notification
 * `data` are not part of the public client's contract, so when the platform leaves one out the
 * runner finds it over REST before the handler runs (src/runner/find-ids.ts): in `ctx.event` it is
 * always there.
 */
export const REPLY_ID_KEYS = {
  'task-accepted': 'applicationId',
  'service-invoked': 'invocationId',
  'employment-offered': 'employmentId',
} as const satisfies Partial<Record<NotificationEventName, string>>;

/** The events whose reply needs an id from `data` ({@link REPLY_ID_KEYS}). */
export type ReplyIdEventName = keyof typeof REPLY_ID_KEYS;

/** `ctx.event` of a notification handler: the wire frame, with the id its reply needs always present. */
export type HandlerNotification<N extends NotificationEventName> = N extends ReplyIdEventName
  ? NotificationWith<N, NotificationOf<N>['data'] & { [K in (typeof REPLY_ID_KEYS)[N]]: Id }>
  : NotificationOf<N>;

/** The map from every event name to the type of `ctx.event` in its handler. */
export type EventMap = {
  message: z.infer<typeof messageFrameSchema>;
  read: z.infer<typeof readFrameSchema>;
  error: z.infer<typeof errorFrameSchema>;
  /** The catch-all: any notification without a handler file of its own. */
  notification: NotificationFrame;
} & { [N in NotificationEventName]: HandlerNotification<N> };

export type EventName = keyof EventMap;

/** Every event name, in a stable order (the handler file names). */
export const EVENT_NAMES = [
  'message',
  ...(Object.keys(NOTIFICATIONS) as NotificationEventName[]),
  'notification',
  'read',
  'error',
] as const satisfies readonly EventName[];

const EVENT_NAME_SET = new Set<string>(EVENT_NAMES);
export function isEventName(name: string): name is EventName {
  return EVENT_NAME_SET.has(name);
}

const BY_WIRE = new Map<string, NotificationEventName>(
  (
    Object.entries(NOTIFICATIONS) as [NotificationEventName, (typeof NOTIFICATIONS)[NotificationEventName]][]
  ).map(([name, def]) => [`${def.domain}/${def.event}`, name]),
);

/** The event name of a notification, or `undefined` when it is not one this project knows. */
export function notificationEventName(domain: string, event: string): NotificationEventName | undefined {
  return BY_WIRE.get(`${domain}/${event}`) ?? BY_WIRE.get(`${inferDomain(event)}/${event}`);
}

/** The real platform may leave `domain` empty; the event name alone is unambiguous for known events. */
function inferDomain(event: string): string | undefined {
  for (const def of Object.values(NOTIFICATIONS)) if (def.event === event) return def.domain;
  return undefined;
}

/**
 * The event a decoded frame belongs to, with its typed payload, or `undefined` for frames that are
 * not events (ping, pong). A known notification whose `data` does not match its schema still
 * reaches its handler with the raw data: a surprise in `data` must never drop an event.
 */
export type RoutedEvent = { [K in EventName]: { name: K; event: EventMap[K] } }[EventName];

/**
 * The name of the event a frame is — what {@link toEvent} routes it as — without routing it (no
 * object, no payload parse); `undefined` for frames that are not events (ping, pong).
 */
export function eventNameOf(frame: ServerFrame): EventName | undefined {
  switch (frame.type) {
    case 'message':
    case 'read':
    case 'error':
      return frame.type;
    case 'notification':
      return notificationEventName(frame.domain, frame.event) ?? 'notification';
    default:
      return undefined;
  }
}

export function toEvent(frame: ServerFrame): RoutedEvent | undefined {
  switch (frame.type) {
    case 'message':
      return { name: 'message', event: frame };
    case 'read':
      return { name: 'read', event: frame };
    case 'error':
      return { name: 'error', event: frame };
    case 'notification': {
      const name = notificationEventName(frame.domain, frame.event);
      if (!name) return { name: 'notification', event: frame };
      const data = NOTIFICATIONS[name].data.safeParse(frame.data);
      return { name, event: { ...frame, data: data.success ? data.data : frame.data } } as RoutedEvent;
    }
    default:
      return undefined;
  }
}

/** For a notification event name, the wire `{ domain, event }`; used to build frames. */
export function wireNotification(name: NotificationEventName): { domain: string; event: string } {
  const def = NOTIFICATIONS[name];
  return { domain: def.domain, event: def.event };
}

/** The closest event name to a misspelt one, for "did you mean" errors. */
export function closestEventName(name: string): EventName {
  return nearest(name, EVENT_NAMES);
}
