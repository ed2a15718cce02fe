/**
 * The id a reply needs, when the notification did not carry it. The ids in notification `data`
 * are not part of the public client's contract (docs/protocol.md, "Notifications"), so a reply
 * that finds none looks for it over REST before it gives up: the application of a `task-accepted`
 * among the accepted tasks still in progress, the invocation of a `service-invoked` among the
 * pending invocations, the employment of an `employment-offered` among the pending offers.
 */
import type { ApiClient } from '../api/client.js';
import { describeValue } from '../describe.js';
import { C4cError } from '../errors.js';
import { REPLY_ID_KEYS, type RoutedEvent } from '../protocol/events.js';
import { parseId, sameId, type Id } from '../protocol/ids.js';

/** Pages read at most while looking (100 entries each). */
const PAGES = 10;
const PAGE = 100;

/**
 * Before a `task-accepted`, `service-invoked` or `employment-offered` handler runs: when the
 * notification left out the id its reply needs, finds it and writes it into `data`, so that
 * `ctx.event.data.applicationId` (…) is always there, as the handler types promise. `undefined` —
 * nothing to wait for — when the id came with the event or the event needs none (every message).
 * Rejects with `E_REPLY` when it cannot be found.
 */
export function completeReplyId(
  routed: RoutedEvent,
  label: string,
  api: ApiClient,
): Promise<void> | undefined {
  const key = (REPLY_ID_KEYS as Partial<Record<string, string>>)[routed.name];
  if (key === undefined) return undefined;
  const event = routed.event as { data?: Record<string, unknown> };
  if (parseId(event.data?.[key]) !== undefined) return undefined;
  return replyId(routed, key, label, api).then((id) => {
    event.data = { ...event.data, [key]: id };
  });
}

/**
 * `data[key]` when it is an id; else the id found over REST; else `C4cError('E_REPLY')` naming the
 * handler file and what was looked for.
 */
export async function replyId(routed: RoutedEvent, key: string, label: string, api: ApiClient): Promise<Id> {
  const data = (routed.event as { data?: Record<string, unknown> }).data ?? {};
  const given = parseId(data[key]);
  if (given !== undefined) return given;
  const found = await lookUp(routed.name, key, data, api).catch(() => undefined);
  if (found !== undefined) return found;
  throw new C4cError(
    'E_REPLY',
    `${label}: the ${routed.name} event has no usable data.${key} (got ${describeValue(data[key], 60)}) and none was found over REST, so its reply cannot be sent`,
    { details: { file: label, event: routed.name } },
  );
}

async function lookUp(
  event: RoutedEvent['name'],
  key: string,
  data: Record<string, unknown>,
  api: ApiClient,
): Promise<Id | undefined> {
  if (event === 'task-accepted' && key === 'applicationId') {
    const tasks = [];
    for (let page = 1; page <= PAGES; page++) {
      const list = await api.acceptedTasks({ status: 'in_progress', page, limit: PAGE });
      tasks.push(...list.tasks);
      if (list.tasks.length < PAGE) break;
    }
    const taskId = parseId(data.taskId);
    const byTask = taskId === undefined ? [] : tasks.filter((t) => sameId(t.id, taskId));
    const byTitle = typeof data.taskTitle === 'string' ? tasks.filter((t) => t.title === data.taskTitle) : [];
    const match =
      byTask.length === 1 ? byTask : byTitle.length === 1 ? byTitle : tasks.length === 1 ? tasks : [];
    return match[0]?.applicationId;
  }
  if (event === 'service-invoked' && key === 'invocationId') {
    const pending = [];
    for (let page = 1; page <= PAGES; page++) {
      const list = await api.invocations({ role: 'provider', status: 'pending', page, limit: PAGE });
      pending.push(...list.invocations.filter((i) => i.status === 'pending' && i.role !== 'caller'));
      if (list.invocations.length < PAGE) break;
    }
    const serviceId = parseId(data.serviceId);
    const byService =
      serviceId === undefined ? pending : pending.filter((i) => sameId(i.serviceId, serviceId));
    const byTitle =
      typeof data.serviceTitle === 'string'
        ? pending.filter((i) => i.serviceTitle === data.serviceTitle)
        : [];
    // Several pending calls of one service: the oldest is the one this notification announced first.
    const match = byService.length > 0 ? byService : byTitle;
    return [...match].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))[0]?.id;
  }
  if (event === 'employment-offered' && key === 'employmentId') {
    const list = await api.employments({ role: 'employee', status: 'pending', page: 1, limit: PAGE });
    const offers = list.employments.filter((e) => e.status === 'pending');
    const byName =
      typeof data.employerAgentName === 'string'
        ? offers.filter((e) => e.employerAgentName === data.employerAgentName)
        : [];
    const match = byName.length === 1 ? byName : offers.length === 1 ? offers : [];
    return match[0]?.id;
  }
  return undefined;
}
