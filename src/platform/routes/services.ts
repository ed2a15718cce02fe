/**
 * Services and their invocations, both sides: offer a service, invoke it, submit the result,
 * review it. Each step notifies the agent it concerns.
 */
import type { Hono } from 'hono';
import { rfc3339 } from '../../protocol/frames.js';
import {
  consoleServicesQuerySchema,
  createServiceBodySchema,
  invocationsQuerySchema,
  invokeServiceBodySchema,
  reviewInvocationBodySchema,
  submitInvocationBodySchema,
  updateServiceBodySchema,
} from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { forbidden, invalidState, notFound, refuse } from '../refuse.js';
import type { InvocationRecord, ServiceRecord } from '../state.js';
import { consoleServiceDetailView, consoleServiceView, invocationView, myServiceView } from '../views.js';
import type { Ctx } from './respond.js';
import { amount, body, idParam, ok, paginate, query, type AppEnv } from './respond.js';

export function serviceRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, notify } = core;
  const invocationOf = (agentId: number, id: number): InvocationRecord => {
    const found = state.invocations.get(id);
    if (!found || (found.callerAgentId !== agentId && found.providerAgentId !== agentId))
      throw notFound(`invocation ${id}`, { invocationId: id });
    return found;
  };
  /** A service of the calling agent; someone else's is NOT_FOUND (no leak), as for invocations. */
  const ownService = (c: Ctx): ServiceRecord => {
    const id = idParam(c, 'id');
    const found = state.services.get(id);
    if (!found || found.providerAgentId !== c.get('agent').id)
      throw notFound(`service ${id} of yours`, { serviceId: id });
    return found;
  };
  const title = (i: InvocationRecord) => state.services.get(i.serviceId)?.title ?? `service ${i.serviceId}`;

  api.post('/agent/me/services', async (c) => {
    const me = c.get('agent');
    const input = await body(c, createServiceBodySchema);
    const now = rfc3339();
    const service: ServiceRecord = {
      id: state.nextId('services'),
      providerAgentId: me.id,
      title: input.title,
      description: input.description,
      category: input.category,
      price: amount(input.price),
      avgResponseMs: input.avgResponseMs ?? null,
      inputSchema: input.inputSchema ?? null,
      outputSchema: input.outputSchema ?? null,
      status: 'active',
      createdAt: now,
    };
    state.put('services', service);
    state.changed();
    return ok(c, { id: service.id, title: service.title, status: service.status, createdAt: now }, 201);
  });

  api.get('/agent/me/services', (c) => {
    const me = c.get('agent').id;
    const list = [...state.services.values()].filter((s) => s.providerAgentId === me);
    return ok(c, { services: list.map((s) => myServiceView(state, s)), total: list.length });
  });

  /** The console's list of your services (`c4c manage service list`): `ConsoleServiceList`. */
  api.get('/services', (c) => {
    const me = c.get('agent').id;
    const q = query(c, consoleServicesQuerySchema);
    const search = q.search?.toLowerCase();
    const list = [...state.services.values()]
      .filter(
        (s) =>
          s.providerAgentId === me &&
          (!q.status || q.status === 'all' || s.status === q.status) &&
          (!search || `${s.title} ${s.description}`.toLowerCase().includes(search)),
      )
      .map((s) => consoleServiceView(state, s));
    if (q.sortBy === 'price') list.sort((a, b) => Number(b.price) - Number(a.price));
    else if (q.sortBy === 'calls') list.sort((a, b) => b.totalCalls - a.totalCalls);
    else list.sort((a, b) => Number(b.id) - Number(a.id));
    return ok(c, { data: list, total: list.length });
  });

  api.get('/services/:id', (c) => ok(c, consoleServiceDetailView(state, ownService(c))));

  api.patch('/agent/me/services/:id', async (c) => {
    const service = ownService(c);
    const input = await body(c, updateServiceBodySchema);
    if (input.title !== undefined) service.title = input.title;
    if (input.description !== undefined) service.description = input.description;
    if (input.price !== undefined) service.price = amount(input.price);
    state.changed();
    return ok(c, { message: `service ${service.id} updated` });
  });

  /** `activate` lists the service in the market again; `deactivate` (`service unpublish`) hides it. */
  for (const action of ['activate', 'deactivate'] as const) {
    api.post(`/agent/me/services/:id/${action}`, (c) => {
      const service = ownService(c);
      service.status = action === 'activate' ? 'active' : 'inactive';
      state.changed();
      return ok(c, { message: `service ${service.id} ${action}d`, status: service.status });
    });
  }

  api.post('/agent/me/service-invocations', async (c) => {
    const me = c.get('agent');
    const input = await body(c, invokeServiceBodySchema);
    const service = state.services.get(input.serviceId);
    if (!service) throw notFound(`service ${input.serviceId}`, { field: 'serviceId' });
    if (service.providerAgentId === me.id)
      throw invalidState(`service ${service.id} is your own; you cannot invoke it`);
    if (service.status !== 'active')
      throw invalidState(
        `service ${service.id} is ${service.status}; only an active service can be invoked`,
        {
          status: service.status,
        },
      );
    if (input.maxPrice !== undefined && Number(service.price) > Number(input.maxPrice)) {
      throw refuse(
        400,
        'VALIDATION_ERROR',
        `invalid body: "maxPrice": service ${service.id} costs ${service.price}, more than maxPrice ${amount(input.maxPrice)}`,
        {
          in: 'body',
          field: 'maxPrice',
        },
      );
    }
    if (input.idempotencyKey) {
      for (const existing of state.invocations.values()) {
        if (existing.callerAgentId === me.id && existing.idempotencyKey === input.idempotencyKey) {
          return ok(c, {
            invocationId: existing.id,
            serviceId: existing.serviceId,
            status: existing.status,
            price: existing.price,
            createdAt: existing.createdAt,
          });
        }
      }
    }
    const now = rfc3339();
    const invocation: InvocationRecord = {
      id: state.nextId('invocations'),
      serviceId: service.id,
      callerAgentId: me.id,
      providerAgentId: service.providerAgentId,
      input: input.input ?? {},
      output: null,
      attachments: [],
      error: null,
      status: 'pending',
      price: service.price,
      idempotencyKey: input.idempotencyKey ?? null,
      rating: null,
      review: null,
      createdAt: now,
      completedAt: null,
    };
    state.put('invocations', invocation);
    state.changed();
    notify(service.providerAgentId, 'service-invoked', {
      invocationId: invocation.id,
      serviceId: service.id,
      serviceTitle: service.title,
      callerAgentName: me.name,
      price: invocation.price,
      input: invocation.input,
    });
    return ok(
      c,
      {
        invocationId: invocation.id,
        serviceId: service.id,
        status: invocation.status,
        price: invocation.price,
        createdAt: now,
      },
      201,
    );
  });

  api.get('/agent/me/service-invocations', (c) => {
    const me = c.get('agent').id;
    const q = query(c, invocationsQuerySchema);
    const list = [...state.invocations.values()].filter(
      (i) =>
        (q.role === 'provider'
          ? i.providerAgentId === me
          : q.role === 'caller'
            ? i.callerAgentId === me
            : i.providerAgentId === me || i.callerAgentId === me) &&
        (q.status === 'all' || i.status === q.status),
    );
    const page = paginate(list, q.page, q.limit);
    return ok(c, {
      invocations: page.items.map((i) => invocationView(state, i, me)),
      total: page.total,
      page: page.page,
      limit: page.limit,
    });
  });

  api.get('/agent/me/service-invocations/:id', (c) => {
    const me = c.get('agent').id;
    return ok(c, invocationView(state, invocationOf(me, idParam(c, 'id')), me));
  });

  api.post('/agent/me/service-invocations/:id/submit', async (c) => {
    const me = c.get('agent');
    const id = idParam(c, 'id');
    const input = await body(c, submitInvocationBodySchema);
    const invocation = invocationOf(me.id, id);
    if (invocation.providerAgentId !== me.id)
      throw forbidden(`only the provider can submit the result of invocation ${invocation.id}`);
    if (invocation.status !== 'pending') {
      throw invalidState(
        `invocation ${invocation.id} is ${invocation.status}; a result can be submitted only once, while it is pending`,
        { status: invocation.status },
      );
    }
    const now = rfc3339();
    invocation.status = input.status;
    invocation.output = input.output ?? null;
    invocation.attachments = input.attachments ?? [];
    invocation.error = input.status === 'failed' ? (input.error ?? 'the provider reported a failure') : null;
    invocation.completedAt = now;
    state.changed();
    const base = {
      invocationId: invocation.id,
      serviceId: invocation.serviceId,
      serviceTitle: title(invocation),
    };
    if (input.status === 'completed')
      notify(invocation.callerAgentId, 'result-submitted', { ...base, providerAgentName: me.name });
    else notify(invocation.callerAgentId, 'invocation-failed', { ...base, error: invocation.error ?? '' });
    return ok(c, { invocationId: invocation.id, status: invocation.status, completedAt: now });
  });

  api.post('/agent/me/service-invocations/:id/review', async (c) => {
    const me = c.get('agent');
    const id = idParam(c, 'id');
    const input = await body(c, reviewInvocationBodySchema);
    const invocation = invocationOf(me.id, id);
    if (invocation.callerAgentId !== me.id)
      throw forbidden(`only the caller can review invocation ${invocation.id}`);
    if (invocation.status === 'pending')
      throw invalidState(`invocation ${invocation.id} is still pending; review it once it has a result`);
    invocation.rating = input.rating ?? null;
    invocation.review = input.review ?? null;
    state.changed();
    notify(invocation.providerAgentId, 'invocation-reviewed', {
      invocationId: invocation.id,
      serviceId: invocation.serviceId,
      serviceTitle: title(invocation),
      callerAgentName: me.name,
      ...(input.rating !== undefined ? { rating: input.rating } : {}),
    });
    return ok(c, { invocationId: invocation.id, message: 'review recorded' });
  });
}
