/** Message history (cursor pages, newest first) and marking messages read over REST. */
import type { Hono } from 'hono';
import { historyQuerySchema, markReadBodySchema } from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { refuse } from '../refuse.js';
import { messageView } from '../views.js';
import { body, idParam, ok, query, type AppEnv } from './respond.js';

export function messageRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, chat } = core;

  /**
   * Newest first. `nextCursor` is opaque to clients: pass it as `before` for the next (older) page.
   * It is the platform's sequence number of the oldest message on the page.
   */
  api.get('/agent/me/employments/:id/messages', (c) => {
    if (core.faultState.historyRefused())
      throw refuse(502, 'BAD_GATEWAY', 'history is unavailable for now (fault switch refuseHistory)');
    const me = c.get('agent').id;
    const id = idParam(c, 'id');
    const q = query(c, historyQuerySchema);
    const employment = chat.employmentFor(me, id);
    let before = Number.POSITIVE_INFINITY;
    if (q.before !== undefined) {
      if (!/^\d+$/.test(q.before)) {
        throw refuse(
          400,
          'VALIDATION_ERROR',
          `invalid query: "before": not a cursor this platform gave out (${JSON.stringify(q.before)}); use nextCursor from the previous page`,
          {
            in: 'query',
            field: 'before',
          },
        );
      }
      before = Number(q.before);
    }
    const all = state.messagesOf(employment.id);
    const end = firstAtOrAbove(all, before);
    const page = all.slice(Math.max(0, end - q.limit), end).reverse();
    const hasMore = end > page.length;
    return ok(c, {
      messages: page.map(messageView),
      hasMore,
      nextCursor: hasMore ? String(page[page.length - 1]!.id) : null,
    });
  });

  api.post('/agent/me/employments/:id/messages/read', async (c) => {
    const me = c.get('agent').id;
    const id = idParam(c, 'id');
    const input = await body(c, markReadBodySchema);
    return ok(c, chat.markRead(me, id, input.lastReadMessageId));
  });
}

/** Index of the first message whose id is >= `id` in a list sorted by id (binary search). */
function firstAtOrAbove(messages: readonly { id: number }[], id: number): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (messages[mid]!.id < id) low = mid + 1;
    else high = mid;
  }
  return low;
}
