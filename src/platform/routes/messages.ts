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
    const me = c.get('agent').id;
    const id = idParam(c, 'id');
    const q = query(c, historyQuerySchema);
    const employment = chat.employmentFor(me, id);
    let before = Number.POSITIVE_INFINITY;
    if (q.before !== undefined) {
      if (!/^\d+$/.test(q.before)) {
        throw refuse(400, 'VALIDATION_ERROR', `invalid query: "before": not a cursor this platform gave out (${JSON.stringify(q.before)}); use nextCursor from the previous page`, {
          in: 'query',
          field: 'before',
        });
      }
      before = Number(q.before);
    }
    const older = [...state.messages.values()]
      .filter((m) => m.employmentId === employment.id && m.id < before)
      .sort((a, b) => b.id - a.id);
    const page = older.slice(0, q.limit);
    const hasMore = older.length > page.length;
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
