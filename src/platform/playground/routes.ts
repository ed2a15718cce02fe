/**
 * @module
 * The playground's routes: the page at `/` (for a browser; other clients keep the JSON summary), the
 * world and the live feed it reads, and the actions its buttons take. Outside `/openapi/v1` and
 * without auth, like the rest of the dev API: the platform binds to loopback unless told otherwise.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { REST_BASE } from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { notFound, refuse } from '../refuse.js';
import { body, idParam, ok, type AppEnv } from '../routes/respond.js';
import type { FeedEntry, PlaygroundHost } from './host.js';
import { PLAYGROUND_HTML } from './page.js';

const emitBodySchema = z.looseObject({
  event: z.string().min(1),
  agentId: z.number().int().positive(),
});

export function playgroundRoutes(app: Hono<AppEnv>, core: Core, host: PlaygroundHost): void {
  const { state } = core;

  app.get('/', (c) => {
    // A browser gets the page; scripts and health checks keep the JSON they always had.
    if ((c.req.header('accept') ?? '').includes('text/html')) return c.html(PLAYGROUND_HTML);
    return ok(c, { name: 'c4c-runner embedded platform', rest: REST_BASE, ws: '/ws', playground: '/' });
  });

  // The world as the page and `emit --url` need it: agents with their (local) tokens and who is online.
  app.get('/dev/world', (c) => {
    const name = (id: number) => state.agents.get(id)?.name ?? `#${id}`;
    return ok(c, {
      agents: [...state.agents.values()]
        .sort((a, b) => a.id - b.id)
        .map((a) => ({ id: a.id, name: a.name, token: a.token, connected: core.hub.isConnected(a.id) })),
      employments: [...state.employments.values()]
        .sort((a, b) => a.id - b.id)
        .map((e) => ({
          id: e.id,
          employerAgentId: e.employerAgentId,
          employerAgentName: name(e.employerAgentId),
          employeeAgentId: e.employeeAgentId,
          employeeAgentName: name(e.employeeAgentId),
          status: e.status,
        })),
      // `null` on a lone platform: no dev session, no handlers panel.
      handlers: host.handlers() ?? null,
      events: host.emitter?.events ?? [],
    });
  });

  // A chat box's history, oldest first.
  app.get('/dev/employments/:id/messages', (c) => {
    const id = idParam(c, 'id');
    if (!state.employments.has(id)) throw notFound(`employment ${id}`, { employmentId: id });
    const messages = state
      .messagesOf(id)
      .slice(-100)
      .map((m) => ({
        messageId: m.messageId,
        senderAgentId: m.senderAgentId,
        content: m.content,
        createdAt: m.createdAt,
      }));
    return ok(c, { messages });
  });

  // What an agent submitted for a task: the public API does not show the deliverable to anyone.
  app.get('/dev/tasks/:id/submissions', (c) => {
    const id = idParam(c, 'id');
    if (!state.tasks.has(id)) throw notFound(`task ${id}`, { taskId: id });
    const submissions = [...state.submissions.values()]
      .filter((s) => s.taskId === id)
      .map((s) => ({
        id: s.id,
        applicationId: s.applicationId,
        content: s.content,
        submittedAt: s.submittedAt,
      }));
    return ok(c, { submissions });
  });

  app.post('/dev/emit', async (c) => {
    const input = await body(c, emitBodySchema);
    const emitter = host.emitter;
    if (!emitter)
      throw refuse(
        501,
        'NOT_IMPLEMENTED',
        'this platform has no emitter attached; raise events with `c4c-runner emit` (or start it with `c4c-runner platform` or `dev`)',
      );
    if (!emitter.events.includes(input.event))
      throw refuse(
        400,
        'VALIDATION_ERROR',
        `"event": cannot raise "${input.event}"; events: ${emitter.events.join(', ')}`,
        {
          field: 'event',
        },
      );
    if (!state.agents.has(input.agentId))
      throw notFound(`agent ${input.agentId}`, { agentId: input.agentId });
    return ok(c, await emitter.raise(input.event, input.agentId));
  });

  // Server-sent events: the recent past first, then each entry as it happens.
  app.get('/dev/feed', (c) =>
    streamSSE(c, async (stream) => {
      const queue: FeedEntry[] = [...host.recent()];
      let wake: (() => void) | undefined;
      const unsubscribe = host.subscribe((entry) => {
        queue.push(entry);
        wake?.();
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      try {
        while (open) {
          while (queue.length > 0 && open) {
            const entry = queue.shift()!;
            await stream.writeSSE({ data: JSON.stringify(entry), id: String(entry.seq) });
          }
          if (!open) break;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
      }
    }),
  );
}
