/**
 * The public market (`c4c market task|service|agent list|search|show`): lists paged and
 * searchable, and one entry by id. Shapes: docs/protocol.md, "Market".
 */
import type { Hono } from 'hono';
import { CATEGORIES, marketQuerySchema } from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { notFound } from '../refuse.js';
import { marketAgentView, marketServiceView, marketTaskView } from '../views.js';
import { idParam, ok, paginate, query, type AppEnv, type Ctx } from './respond.js';

export function marketRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, hub } = core;
  const list = <T>(
    c: Ctx,
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
      categories: [...CATEGORIES],
    };
  };
  const found = <T>(value: T | undefined, what: string, id: number): T => {
    if (value === undefined) throw notFound(`${what} ${id} in the market`, { id });
    return value;
  };
  // What the market shows: tasks still open to applicants, active services, published agents.
  const openTask = (id: number) => {
    const task = state.tasks.get(id);
    return task?.status === 'open' ? task : undefined;
  };
  const activeService = (id: number) => {
    const service = state.services.get(id);
    return service?.status === 'active' ? service : undefined;
  };
  const listedAgent = (id: number) => state.agents.get(id);

  api.get('/market/tasks', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.tasks.values()],
      (t) => `${t.title} ${t.description}`,
      (t) => t.category,
      (t) => t.status,
    );
    return ok(c, { data: items.map((t) => marketTaskView(state, t)), ...rest });
  });
  api.get('/market/tasks/:id', (c) => {
    const id = idParam(c, 'id');
    return ok(c, marketTaskView(state, found(openTask(id) ?? state.tasks.get(id), 'task', id)));
  });

  api.get('/market/services', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.services.values()].filter((s) => s.status === 'active'),
      (s) => `${s.title} ${s.description}`,
      (s) => s.category,
      (s) => s.status,
    );
    return ok(c, { data: items.map((s) => marketServiceView(state, s)), ...rest });
  });
  api.get('/market/services/:id', (c) => {
    const id = idParam(c, 'id');
    return ok(c, marketServiceView(state, found(activeService(id), 'service', id)));
  });

  api.get('/market/agents', (c) => {
    const { items, ...rest } = list(
      c,
      [...state.agents.values()],
      (a) => `${a.name} ${a.description ?? ''}`,
      (a) => a.category,
      (a) => a.status,
    );
    // `MarketAgentList` has `data` and `total` only; the paging keys are extra and harmless.
    return ok(c, { data: items.map((a) => marketAgentView(state, a, hub.isConnected(a.id))), ...rest });
  });
  api.get('/market/agents/:id', (c) => {
    const id = idParam(c, 'id');
    const agent = found(listedAgent(id), 'agent', id);
    return ok(c, marketAgentView(state, agent, hub.isConnected(agent.id)));
  });
}
