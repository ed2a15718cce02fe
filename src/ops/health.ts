/**
 * The operator's port: `GET /healthz` (liveness), `GET /readyz` (readiness) and `GET /metrics`
 * (Prometheus text). A bare `node:http` server: three read-only routes need no framework, and
 * `start` loads nothing it does not use. Bound to 127.0.0.1 unless told otherwise: metrics name
 * events and figures an operator may not want on a public interface.
 */
import { LOOPBACK_HOST } from '../limits.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { C4cError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { RunnerMetrics } from '../runner/runner.js';
import { createPrometheusRegistry, type MetricsSource, type PrometheusOptions } from './prometheus.js';
import { liveness, readiness } from './readiness.js';

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions extends PrometheusOptions {
  /** Port to listen on; 0 picks a free one (see `url`). */
  port: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Logs a line when liveness or readiness changes. @default silent */
  logger?: Logger;
}

/** A listening health server. */
export interface HealthServer {
  /** e.g. `http://127.0.0.1:9464` (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends open connections. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Serves `/healthz`, `/readyz` and `/metrics` for a runner. Rejects with `E_CONFIG` when the port
 * cannot be bound (in use, or not allowed).
 * @example
 * const health = await startHealthServer(runner, { port: 9464 });
 * // … later
 * await health.close();
 */
export async function startHealthServer(
  source: MetricsSource,
  options: HealthServerOptions,
): Promise<HealthServer> {
  const host = options.host ?? LOOPBACK_HOST;
  const logger = (options.logger ?? silentLogger()).child({ component: 'health' });
  const registry = createPrometheusRegistry(source, options);
  let lastReady: string | undefined;
  let lastLive: string | undefined;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'only GET and HEAD are served here' }, { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/healthz': {
        const live = liveness(source.metrics());
        const key = live.live ? 'live' : live.reason;
        if (key !== lastLive && lastLive !== undefined)
          if (live.live) logger.info('liveness: live again');
          else
            logger.error({ reason: live.reason }, `liveness: not live (${live.detail}); a restart is needed`);
        lastLive = key;
        send(res, live.live ? 200 : 503, live.live ? { status: 'ok' } : { status: 'down', ...live });
        return;
      }
      case '/readyz': {
        const metrics = source.metrics();
        const ready = readiness(metrics);
        const key = ready.ready ? 'ready' : ready.reason;
        if (key !== lastReady && lastReady !== undefined)
          logger.info(
            { ready: ready.ready, reason: ready.ready ? undefined : ready.reason },
            `readiness: ${key}`,
          );
        lastReady = key;
        send(
          res,
          ready.ready ? 200 : 503,
          ready.ready
            ? { status: 'ready', ...brief(metrics) }
            : { status: 'not ready', ...ready, ...brief(metrics) },
        );
        return;
      }
      case '/metrics': {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      default:
        send(res, 404, { error: `no route ${path}; try /healthz, /readyz or /metrics` });
    }
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      logger.warn({ err: error }, `health server: ${req.url ?? ''} failed`);
      if (!res.headersSent) send(res, 500, { error: 'internal error; see the runner log' });
      else res.destroy();
    });
  });
  // Probes are short and frequent: keep-alive sockets must not hold `close()` open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new C4cError(
          'E_CONFIG',
          error.code === 'EADDRINUSE'
            ? `health port ${options.port} on ${host} is in use; pick another with --health-port / health.port / C4C_HEALTH_PORT`
            : `could not open the health port ${options.port} on ${host}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** The few figures worth seeing in a probe's answer. */
function brief(m: RunnerMetrics): Record<string, unknown> {
  return {
    state: m.state,
    connection: m.stats.connection,
    running: m.stats.running,
    waiting: m.stats.waiting,
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
