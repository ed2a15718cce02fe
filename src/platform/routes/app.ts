/** The Hono app: the envelope, auth on every `/openapi/v1` call, the routes, the dev API. */
import { Hono } from 'hono';
import { REST_BASE } from '../../protocol/rest.js';
import type { Core } from '../core.js';
import { agentRoutes } from './agent.js';
import { devRoutes } from './dev.js';
import { employmentRoutes } from './employments.js';
import { marketRoutes } from './market.js';
import { messageRoutes } from './messages.js';
import { errorHandler, fail, ok, requireAgent, traceIds, type AppEnv } from './respond.js';
import { serviceRoutes } from './services.js';
import { taskRoutes } from './tasks.js';
import type { PlaygroundHost } from '../playground/host.js';
import { playgroundRoutes } from '../playground/routes.js';

export function createApp(core: Core, playground: PlaygroundHost): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', traceIds);
  app.use('*', async (c, next) => {
    c.set('idDialect', core.idDialect);
    await next();
  });
  app.use('*', async (c, next) => {
    await next();
    // The path only: a query string may hold `api_key`.
    core.logger.debug(
      {
        method: c.req.method,
        path: c.req.path,
        // An answer written straight to the socket (respond.ts `send`) leaves a placeholder in c.res.
        status: c.get('status') ?? c.res.status,
        traceId: c.get('traceId'),
      },
      'request',
    );
  });

  const api = new Hono<AppEnv>();
  api.use('*', requireAgent(core.state));
  agentRoutes(api, core);
  employmentRoutes(api, core);
  messageRoutes(api, core);
  taskRoutes(api, core);
  serviceRoutes(api, core);
  marketRoutes(api, core);
  app.route(REST_BASE, api);

  devRoutes(app, core);
  playgroundRoutes(app, core, playground);
  app.get('/health', (c) => ok(c, { status: 'ok' }));

  app.notFound((c) =>
    fail(c, 404, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}; ${routeHint(c.req.path)}`),
  );
  app.onError(errorHandler(core.logger));
  return app;
}

/** What to say about a path with no route: the hint depends on where the path points. */
export function routeHint(path: string): string {
  if (path === REST_BASE || path.startsWith(`${REST_BASE}/`))
    return 'this REST call does not exist on the platform; docs/protocol.md lists every route';
  if (path === '/ws' || path.startsWith('/ws/'))
    return 'the WebSocket needs an upgrade request (ws:// or wss://)';
  if (path.startsWith('/dev/')) return 'no such dev API call; docs/platform.md lists them';
  return `REST calls live under ${REST_BASE} (e.g. ${REST_BASE}/agent/me)`;
}
