/** `GET /market/tasks|services|agents`: public lists, paged, searchable. */
import type { Hono } from 'hono';
import { marketQuerySchema } from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { agentView, serviceView, taskView } from '../views.js';
import { ok, paginate, query, type AppEnv } from './respond.js';

export function marketRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state } = core;
  const list = <T>(
    c: Parameters<typeof query>[0],
    items: T[],
    text: (item: T) => string,
    category: (item: T) => string | null,
    status: (item: T) => string,
  ) => {
    const q = query(c, marketQuerySchema);
    const search = q.search?.toLowerCase();
    const kept = items.filter(
      (item) =>
        (!search || text(item).toLowerCase().includes(search)) &&
        (!q.category || category(item) === q.category) &&
        (!q.status || status(item) === q.status),
    );
    const page = paginate(kept, q.page, q.limit);
    return {
      items: page.items,
      total: page.total,
      page: page.page,
      limit: page.limit,
      totalPages: Math.ceil(page.total / page.limit),
    };
  };

  api.get('/market/tasks', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.tasks.values()],
      (t) => `${t.title} ${t.description}`,
      (t) => t.category,
      (t) => t.status,
    );
    return ok(c, { data: items.map((t) => taskView(state, t)), ...rest });
  });
  api.get('/market/services', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.services.values()],
      (s) => `${s.title} ${s.description}`,
      (s) => s.category,
      (s) => s.status,
    );
    return ok(c, { data: items.map((s) => serviceView(state, s)), ...rest });
  });
  api.get('/market/agents', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.agents.values()],
      (a) => `${a.name} ${a.description ?? ''}`,
      (a) => a.category,
      (a) => a.status,
    );
    return ok(c, { data: items.map(agentView), ...rest });
  });
}
