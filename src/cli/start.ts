/**
 * `c4c-runner start`: the agent in production. JSON log lines on stdout, no watcher, no local
 * platform, no pretty printer. SIGINT/SIGTERM stop intake, drain running handlers (bounded by
 * `drainTimeout`), close the connection and exit 0; a second signal exits at once.
 */
import type { Command } from 'commander';
import { surviveStrayRejections } from './stray.js';
import { C4cError } from '../errors.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadDotEnv } from './env-file.js';
import { resolveSetting } from '../config/precedence.js';
import type { Runner } from '../runner/runner.js';

interface StartOptions {
  config?: string;
  cwd?: string;
  healthPort?: string;
  healthHost?: string;
  workers?: string;
  redis?: string;
}

/** Registers `c4c-runner start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run the agent in production: JSON logs on stdout, no dev parts; Ctrl-C/SIGTERM drain and exit 0.',
    )
    .option(
      '-c, --config <file>',
      'config file (default: c4c.config.ts/.mts/.js/.mjs/.json, .c4crc, package.json "c4c" in the project folder)',
    )
    .option('--cwd <dir>', 'project folder (default: the current folder)')
    .option(
      '--health-port <port>',
      'serve /healthz, /readyz and /metrics (Prometheus) on this port (also health.port, env C4C_HEALTH_PORT; default: off)',
    )
    .option(
      '--health-host <host>',
      'interface for the health port (default: 127.0.0.1; 0.0.0.0 in a container)',
    )
    .option(
      '--workers <n>',
      'run handlers in n worker threads, so CPU-bound handlers cannot stall the socket (env C4C_WORKERS, config workers; default 0: on the main thread)',
    )
    .option(
      '--redis <url>',
      'serve the agent from many processes through Redis: one holds the socket, all handle events (also redis.url, env C4C_REDIS_URL; see docs/scaling.md)',
    )
    .action(async (options: StartOptions) => {
      await runStart(options);
    });
}

async function runStart(options: StartOptions): Promise<void> {
  // Lets the config and handlers tell production from dev (the llm template refuses to start without its key).
  process.env.C4C_RUNNER_MODE = 'start';
  // Only what production needs: no chokidar, no platform, no pino-pretty (test/cli/start.test.ts checks).
  const [{ loadConfig }, { createRunner }, { createLogger }, { isC4cError }, { logLevelFromEnv }] =
    await Promise.all([
      import('../config/load.js'),
      import('../runner/runner.js'),
      import('../log.js'),
      import('../errors.js'),
      import('../config/log-level.js'),
    ]);
  const healthPort =
    parsePort(options.healthPort, '--health-port') ??
    parsePort(process.env.C4C_HEALTH_PORT, 'env C4C_HEALTH_PORT');
  const cwd = resolve(options.cwd ?? '.');
  loadDotEnv(cwd);
  const config = await loadConfig({
    cwd,
    ...(options.config ? { configFile: options.config } : {}),
    flags: { workers: options.workers },
    overrides: {
      health: {
        ...(healthPort === undefined ? {} : { port: healthPort }),
        ...(options.healthHost ? { host: options.healthHost } : {}),
      },
    },
  });
  if (config.configFile === undefined && !existsSync(config.handlers)) {
    // Most likely started in the wrong folder: say so before "no handlers folder" or "no token".
    throw new C4cError(
      'E_CONFIG',
      `no c4c.config.* in ${cwd} (and no handlers folder); run start in your agent's folder, or pass --cwd <dir> or --config <file>`,
    );
  }
  const token = config.platform.token;
  if (!token) {
    throw new C4cError(
      'E_CONFIG',
      'no API token: set C4C_API_TOKEN, or platform.token in c4c.config.ts, or api_token in ~/.c4c/config.json; `c4c-runner dev` runs without one against the local platform',
    );
  }
  const redis = resolveSetting({
    flag: options.redis,
    env: process.env.C4C_REDIS_URL,
    config: config.redis?.url,
  });
  const redisPassword = redis ? (await import('../scale/redis.js')).redisPassword(redis[0]) : undefined;
  const logger = createLogger({
    level: logLevelFromEnv() ?? config.logLevel,
    secrets: [token, ...(redisPassword ? [redisPassword] : [])],
  });
  const unguard = surviveStrayRejections(logger);
  let runner: Runner;
  if (redis) {
    // Loaded only with --redis: a single-process start does not pay for ioredis.
    const [url, source] = redis;
    const [{ checkRedisUrl }, { createScaledRunner }, { REDIS_DEFAULTS }] = await Promise.all([
      import('../scale/redis.js'),
      import('../scale/runner.js'),
      import('../config/schema.js'),
    ]);
    checkRedisUrl(
      url,
      source === 'flag' ? '--redis' : source === 'env' ? 'env C4C_REDIS_URL' : 'redis.url in the config',
    );
    runner = createScaledRunner(config, { ...REDIS_DEFAULTS, ...config.redis, url }, { logger });
  } else runner = createRunner(config, { logger });
  // Up before the connection: an orchestrator sees "live, not ready" while the runner starts.
  const health =
    config.health.port === undefined
      ? undefined
      : await (
          await import('../ops/health.js')
        ).startHealthServer(runner, { port: config.health.port, host: config.health.host, logger });
  if (health)
    logger.info({ url: health.url }, `health: ${health.url}/healthz, /readyz and /metrics (Prometheus)`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting for handlers');
      process.exit(1);
    }
    logger.info(
      { signal, drainTimeout: config.drainTimeout },
      `${signal}: stopping; waiting up to ${config.drainTimeout} ms for running handlers`,
    );
    void runner.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await runner.start();
    } catch (error) {
      // Ctrl-C while connecting is a normal way to stop.
      if (signals > 0 && isC4cError(error, 'E_CLOSED')) return;
      if (isC4cError(error, 'E_AUTH')) {
        throw new C4cError(
          'E_AUTH',
          `${error.message}; the token in use came from ${describeSource(config.platform.sources.token)}`,
          { cause: error },
        );
      }
      throw error;
    }
    logger.info(
      {
        config: config.configFile ?? null,
        handlers: runner.registry.names(),
        tokenSource: config.platform.sources.token,
        concurrency: config.concurrency,
        workers: config.workers,
        pid: process.pid,
      },
      redis
        ? `c4c-runner started: ${runner.registry.size} handler(s), serving ${config.platform.url} through Redis`
        : `c4c-runner started: ${runner.registry.size} handler(s), connected to ${config.platform.url}`,
    );
    await runner.done;
  } finally {
    await health?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unguard();
    // The drain is over: a handler that ignored its abort signal may still hold a timer or a socket,
    // which must not keep the process alive past the drain timeout. Unref'd: a clean exit is not delayed.
    setTimeout(() => process.exit(), 1_000).unref();
  }
}

/** A port from a flag or the environment; `undefined` when not given. */
function parsePort(value: string | undefined, where: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new C4cError(
      'E_CONFIG',
      `${where} must be a port number from 0 to 65535 (e.g. 9464), got ${JSON.stringify(value)}`,
    );
  }
  return port;
}

function describeSource(source: string): string {
  switch (source) {
    case 'env':
      return 'env C4C_API_TOKEN';
    case 'config':
      return 'platform.token in the config file';
    case 'home':
      return 'api_token in ~/.c4c/config.json';
    default:
      return source;
  }
}
