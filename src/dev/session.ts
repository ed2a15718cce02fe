/**
 * A dev session: the embedded platform (unless remote), the runner connected to it over a real
 * socket, and the watcher that hot-reloads handlers. A config change restarts the runner only; the
 * platform, its state and the other party's sockets stay up.
 */
import { LOOPBACK_HOST } from '../limits.js';
import { EventEmitter } from 'node:events';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import { C4cError, isC4cError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { EventOutcome } from '../runner/pipeline.js';
import { createRunner, handlerRegistryOf, type Runner } from '../runner/runner.js';
import type { Platform, World } from '../platform/index.js';
import { playgroundEmitter } from '../party/emit-answer.js';
import { createStatusFeed } from './status.js';
import { MemoryStateStore } from '../state/memory.js';
import { HandlerWatcher, type ReloadEvent } from './watcher.js';

export interface DevOptions {
  /** The project folder. */
  cwd: string;
  /** `--config`. @default searched in cwd */
  configFile?: string | undefined;
  /** Run against the configured (real) platform instead of an embedded one. @default false */
  remote?: boolean;
  /** Embedded platform port; busy → a free one when `strictPort` is false. @default 7420 */
  port?: number;
  strictPort?: boolean;
  /** @default '127.0.0.1' */
  host?: string;
  /** Embedded platform seed file. @default the default world */
  seed?: string | undefined;
  /** Embedded platform state file. */
  dataFile?: string | undefined;
  /** Fault switches on the embedded platform. @default false */
  faults?: boolean;
  /** Lets non-loopback clients use the embedded platform's `/dev/*` with this token. @default none */
  devToken?: string | undefined;
  logger: Logger;
  /** Sees each config as it is loaded, before a runner is made with it (dev applies its logLevel). */
  onConfig?: (config: ResolvedConfig) => void;
  /** Environment for token/endpoint in remote mode. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** `--workers` as typed: handler threads (flag > env C4C_WORKERS > config). @default the config's */
  workers?: string | undefined;
}

export interface DevEvents {
  reload: [ReloadEvent];
  frame: [ServerFrame];
  /** What became of an event a handler ran for (dev prints it after the frame's lines). */
  outcome: [EventOutcome];
  /** The runner was restarted after a config change (or the change was refused: `error` set). */
  restart: [{ ok: true; ms: number } | { ok: false; error: C4cError }];
  error: [Error];
}

export interface DevSession extends EventEmitter<DevEvents> {
  readonly platform: Platform | undefined;
  readonly world: World | undefined;
  readonly config: ResolvedConfig;
  readonly runner: Runner;
  /** Handler files that failed to load at start: dev runs without them until they are fixed. */
  readonly startupProblems: readonly C4cError[];
  /** Resolves when every reload triggered so far is done. */
  idle(): Promise<void>;
  /** Stops watcher, runner and platform; safe twice. */
  close(): Promise<void>;
}

/** The port `dev` and `platform` use when none is given. */
export const DEFAULT_DEV_PORT = 7420;

export async function startDev(options: DevOptions): Promise<DevSession> {
  const events = new EventEmitter<DevEvents>();
  const env = options.env ?? process.env;
  let platform: Platform | undefined;

  if (!options.remote) {
    const { startPlatform } = await import('../platform/index.js');
    const platformOptions = {
      host: options.host ?? LOOPBACK_HOST,
      ...(options.seed ? { seed: options.seed } : {}),
      ...(options.dataFile ? { dataFile: options.dataFile } : {}),
      faults: options.faults ?? false,
      ...(options.devToken ? { devToken: options.devToken } : {}),
      // The platform's own info lines would repeat the banner; its warnings still show.
      logger: options.logger.child({ component: 'platform' }, { level: 'warn' }),
    };
    const port = options.port ?? DEFAULT_DEV_PORT;
    try {
      platform = await startPlatform({ ...platformOptions, port });
    } catch (error) {
      // Like Vite: the default port being taken (another dev running) is no reason to fail.
      if (options.strictPort || !isC4cError(error) || error.details?.errno !== 'EADDRINUSE') throw error;
      platform = await startPlatform({ ...platformOptions, port: 0 });
    }
  }

  const load = () =>
    loadConfigOnly().then((loaded) => {
      options.onConfig?.(loaded);
      return loaded;
    });
  const loadConfigOnly = () =>
    loadConfig({
      cwd: options.cwd,
      ...(options.configFile ? { configFile: options.configFile } : {}),
      flags: { workers: options.workers },
      ...(platform
        ? {
            // Local mode: the agent is the embedded world's agent, whatever the env or ~/.c4c say.
            env: withoutCredentials(env),
            overrides: { platform: { url: platform.url, token: platform.world.agent.token } },
          }
        : { env }),
    });

  let config: ResolvedConfig;
  try {
    config = await load();
  } catch (error) {
    await platform?.close();
    throw error;
  }

  const onFrame = (frame: ServerFrame) => events.emit('frame', frame);
  const onOutcome = (outcome: EventOutcome) => events.emit('outcome', outcome);
  // Until the caller listens (startDev has resolved), problems are kept for `startupProblems`.
  const startupProblems: C4cError[] = [];
  let listening = false;
  const onHandlerProblem = (error: C4cError) => {
    if (!listening) startupProblems.push(error);
    else
      events.emit('reload', {
        kind: 'failed',
        file: typeof error.details?.file === 'string' ? error.details.file : '',
        label: '',
        error,
        repeated: false,
      });
  };
  // ctx.state in memory unless the config names a store; one for the session, so it outlives the
  // runner restarts of config changes as well as hot reloads.
  const devState = new MemoryStateStore();
  const makeRunner = (cfg: ResolvedConfig) =>
    createRunner(cfg, {
      logger: options.logger,
      onFrame,
      onOutcome,
      onHandlerProblem,
      ...(cfg.state === undefined ? { state: devState } : {}),
    });
  let runner = makeRunner(config);
  try {
    await runner.start();
  } catch (error) {
    await platform?.close();
    throw error;
  }

  const makeWatcher = (cfg: ResolvedConfig, r: Runner) => {
    const watcher = new HandlerWatcher({
      root: cfg.root,
      registry: handlerRegistryOf(r),
      configFile: cfg.configFile,
    });
    watcher.on('reload', (event) => {
      if (event.kind === 'config') void restart();
      else events.emit('reload', event);
    });
    watcher.on('error', (error) => events.emit('error', error));
    return watcher;
  };
  let watcher = makeWatcher(config, runner);
  await watcher.start();

  let restarting: Promise<void> = Promise.resolve();
  const restart = () =>
    (restarting = restarting.then(async () => {
      const started = performance.now();
      let next: ResolvedConfig;
      let nextRunner: Runner;
      try {
        next = await load();
        nextRunner = makeRunner(next);
        // The old runner drains first so an event is never handled by both.
        await runner.close({ drainTimeout: 2_000 });
        await watcher.close();
        await nextRunner.start();
      } catch (error) {
        const failure =
          error instanceof C4cError ? error : new C4cError('E_CONFIG', String(error), { cause: error });
        events.emit('restart', { ok: false, error: failure });
        if (runner.state === 'closed') {
          // The new config cannot run: bring the last good one back so the agent keeps answering.
          runner = makeRunner(config);
          await runner.start().catch((startError: unknown) => events.emit('error', startError as Error));
          watcher = makeWatcher(config, runner);
          await watcher.start();
        }
        return;
      }
      config = next;
      runner = nextRunner;
      watcher = makeWatcher(config, runner);
      await watcher.start();
      events.emit('restart', { ok: true, ms: Math.round(performance.now() - started) });
    }));

  let closing: Promise<void> | undefined;
  const session = Object.assign(events, {
    get platform() {
      return platform;
    },
    startupProblems,
    get world() {
      return platform?.world;
    },
    get config() {
      return config;
    },
    get runner() {
      return runner;
    },
    async idle() {
      await restarting;
      await watcher.idle();
    },
    close() {
      closing ??= (async () => {
        await restarting.catch(() => {});
        await watcher.close();
        await runner.close({ drainTimeout: 2_000 });
        await platform?.close();
      })();
      return closing;
    },
  });
  listening = true;
  // The playground page at the platform's `/`: the handlers panel, outcomes in its log, event buttons.
  platform?.attachPlayground({ status: createStatusFeed(session), emitter: playgroundEmitter(platform.url) });
  return session;
}

function withoutCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.C4C_API_TOKEN;
  delete copy.C4C_API_ENDPOINT;
  return copy;
}
