/**
 * `createRunner`: the wiring of config, registry, scheduler, ledger, pipeline and connection, with
 * an explicit lifecycle: idle → starting → running → closing → closed.
 */
import type { Id } from '../protocol/ids.js';
import { ApiClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/schema.js';
import { Connection, type ConnectionState } from '../connection/connection.js';
import { C4cError, PlatformError } from '../errors.js';
import type { ServerFrame } from '../protocol/frames.js';
import { silentLogger, type Logger } from '../log.js';
import { MetricsRecorder, type RecordedFigures } from './metrics.js';
import { loadEventTracer, type EventTracer } from './tracing.js';
import type { CatchUp, CatchUpStats } from './catchup/index.js';
import { createCatchUp } from './catchup/wire.js';
import { MemoryLedger, type Ledger } from './ledger.js';
import { DeadLetters, deadLetterPath } from './dead-letters.js';
import {
  Pipeline,
  emptyPipelineStats,
  type AcceptResult,
  type EventOutcome,
  type FallbackHandler,
  type PipelineStats,
} from './pipeline.js';
import type { HandlerFailure } from './retry.js';
import { HandlerRegistry, type HandlerRegistryView } from './registry.js';
import type { HandlerExecutor } from './executor.js';
import { Scheduler } from './scheduler.js';
import { describeSettingSource } from '../config/sources.js';
import { stateStoreFor } from '../state/from-config.js';
import type { StateStore } from '../state/store.js';

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** Where the runner logs. @default silent */
  logger?: Logger;
  /** Replaces the in-memory ledger (dedupe + acknowledgement). */
  ledger?: Ledger;
  /**
   * Handles every event no handler file handles (`connect` prints and forwards with it).
   * @default a forwarder to the config's `webhook`, if it has one; else none (such events are dropped)
   */
  fallback?: FallbackHandler;
  /** Whether to load the handlers folder; `false` runs on the fallback alone (no folder needed). @default true */
  handlerFiles?: boolean;
  /**
   * Called for each handler file that fails to load at start; the runner then starts without it
   * instead of failing (dev mode). @default none: a bad handler file fails `start()`
   */
  onHandlerProblem?: (problem: C4cError) => void;
  /** Sees every validated frame as it arrives, before it is routed (dev prints them in the guide's format). */
  onFrame?: (frame: ServerFrame) => void;
  /**
   * Sees what became of every event a handler ran for: replied (and how), no reply, failed, timed out,
   * aborted, unsent — with the handler's time. Dev's outcome lines and the metrics are built on it.
   */
  onOutcome?: (outcome: EventOutcome) => void;
  /**
   * Where `ctx.state` is kept, owned by the caller (dev keeps one memory store across restarts); the
   * runner flushes it on close but does not close it.
   * @default the config's `state`, else a file store in `.c4c/state/` of the project
   */
  state?: StateStore;
  /** Sees every connection state change (`connect` prints the public client's lines for them). */
  onConnectionState?: (state: ConnectionState, previous: ConnectionState) => void;
  /**
   * Writes each event that failed for good to `.c4c/dead-letters.jsonl` in the project (for
   * `c4c-runner replay`). @default true
   */
  deadLetters?: boolean;
  /**
   * Handles the events the socket brings (and catches up what it missed). `false` connects only to
   * send: events come from {@link Runner.dispatch} alone (`c4c-runner replay`). @default true
   */
  live?: boolean;
}

/** Where a runner is in its lifecycle. */
export type RunnerState = 'idle' | 'starting' | 'running' | 'closing' | 'closed';

/** Counters for health checks and tests. */
export interface RunnerStats extends PipelineStats {
  /** Handlers running now. */
  running: number;
  /** Events accepted and waiting for a slot. */
  waiting: number;
  /** Most handlers ever running at once. */
  peakRunning: number;
  /** Connection state. */
  connection: string;
  /** Catch-up passes and what they found (absent with `ack: false`, or before start). */
  catchUp?: CatchUpStats;
}

/** Figures for dashboards and health checks: see {@link Runner.metrics}. */
export interface RunnerMetrics extends RecordedFigures {
  /** Where the runner is in its lifecycle. */
  readonly state: RunnerState;
  /** Whether the handler files are loaded (they are before the first connection). */
  readonly handlersLoaded: boolean;
  /** Whether a catch-up pass is running or waiting for a retry (always `false` with `ack: false`). */
  readonly catchingUp: boolean;
  /** The counters of {@link Runner.stats}. */
  readonly stats: RunnerStats;
  /** With `start --redis` (src/scale/): this process's part in serving the agent. */
  readonly scale?: {
    /** Whether this process holds the platform socket. */
    readonly holder: boolean;
    /** Partitions this process consumes now. */
    readonly partitions: number;
    /** Events written into partitions (as holder), frames relayed for other processes. */
    readonly written: number;
    readonly relayed: number;
  };
}

/** A running agent: see {@link createRunner}. */
export interface Runner {
  /**
   * Loads every handler (failing fast, before any connection), then connects. Resolves once the
   * socket is open. Rejects with `E_CONFIG` (no token, no handlers folder), `E_HANDLER_*` (a bad
   * handler file) or `E_AUTH` (the platform refused the token; never retried).
   */
  start(): Promise<void>;
  /**
   * Stops taking events, waits for running handlers up to `drainTimeout` ms, aborts the rest through
   * `ctx.signal`, flushes replies and acknowledgements, and closes the connection. Safe to call twice.
   */
  close(options?: { drainTimeout?: number }): Promise<void>;
  /** Settles when the runner has stopped: resolves after `close()`, rejects if the connection gave up. */
  readonly done: Promise<void>;
  readonly state: RunnerState;
  readonly stats: RunnerStats;
  /** The loaded handlers, read-only. */
  readonly registry: HandlerRegistryView;
  /**
   * A snapshot of the runner's figures: events by name, handler outcomes and durations by event,
   * reconnects, acknowledgements, queue, catch-up and lifecycle. The Prometheus exporter and the
   * health checks read it; so can an embedding application.
   */
  metrics(): RunnerMetrics;
  /**
   * Hands a frame to the handlers as if it had just arrived (dedupe, route, schedule) and says what
   * became of it. Throws `E_CLOSED` unless the runner is running.
   */
  dispatch(frame: ServerFrame): AcceptResult;
}

/**
 * Creates a runner for a resolved config.
 * @example
 * const runner = createRunner(await loadConfig(), { logger });
 * await runner.start();
 * process.once('SIGTERM', () => runner.close());
 */
export function createRunner(config: ResolvedConfig, options: RunnerOptions = {}): Runner {
  const base = options.logger ?? silentLogger();
  const logger = base.child({ component: 'runner' });
  const registry = new HandlerRegistry({ dir: config.handlers, root: config.root });
  const scheduler = new Scheduler({ concurrency: config.concurrency, backlog: config.backlog });
  let state: RunnerState = 'idle';
  let connection: Connection | undefined;
  let pipeline: Pipeline | undefined;
  let workers: HandlerExecutor | undefined;
  let catchUp: CatchUp | undefined;
  let closing: Promise<void> | undefined;
  let handlersLoaded = false;
  const recorder = new MetricsRecorder();
  let tracer: EventTracer | undefined;
  // The config's store (or the default file store) is the runner's to close; a caller's is not.
  const stateStore = options.state ?? stateStoreFor(config, 'file', logger);
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {}); // observed through `done` by those who care; never an unhandled rejection

  const close = (closeOptions: { drainTimeout?: number } = {}, failure?: C4cError): Promise<void> => {
    closing ??= (async () => {
      const drainTimeout = closeOptions.drainTimeout ?? config.drainTimeout;
      const started = Date.now();
      state = 'closing';
      pipeline?.stopIntake();
      await catchUp?.close();
      const { drained, dropped } = await scheduler.close(drainTimeout);
      if (!drained) logger.warn(`handlers still running after ${drainTimeout} ms were aborted`);
      if (dropped > 0)
        logger.warn(`${dropped} event(s) waiting for a slot were not started; they stay unacknowledged`);
      const left = Math.max(0, drainTimeout - (Date.now() - started));
      if (connection && connection.state !== 'closed') {
        // Replies already handed over go out before the socket closes, within what is left of the drain time.
        const flushed = await connection.flush(Math.max(left, 100));
        if (!flushed) logger.warn('some replies were still waiting to be sent when the runner closed');
      }
      // After the drain: a handler still in a thread has been aborted and answered by now.
      await workers?.close();
      await ledger.flush();
      await deadLetters?.flush();
      await flushState(stateStore, options.state === undefined, logger);
      await connection?.close();
      state = 'closed';
      logger.info({ stats: stats() }, 'runner closed');
      if (failure) settle.reject(failure);
      else settle.resolve();
    })();
    return closing;
  };

  const api = config.platform.token
    ? new ApiClient({
        baseUrl: config.platform.url,
        token: config.platform.token,
        logger: base.child({ component: 'api' }),
      })
    : undefined;
  const ledger: Ledger =
    options.ledger ??
    new MemoryLedger({
      size: config.dedupe,
      logger,
      ...(config.ack && api
        ? {
            markRead: async (employmentId: Id, id: string) => {
              const result = await api.markRead(employmentId, id);
              recorder.acknowledged();
              return result;
            },
          }
        : {}),
    });

  const deadLetters =
    options.deadLetters === false ? undefined : new DeadLetters(deadLetterPath(config.root));
  /** An event failed for good: the config's `onError` sees it, then the dead-letter file keeps it. */
  const onFailure = async (failure: HandlerFailure): Promise<void> => {
    if (config.onError) {
      try {
        await config.onError(failure);
      } catch (error) {
        logger.error(
          { err: error, event: failure.routed.name, file: failure.file },
          `onError threw: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (!deadLetters) return;
    const entry = await deadLetters.add(failure);
    logger.warn(
      { deadLetter: entry.id, event: entry.event, file: entry.file, path: deadLetters.path },
      `"${entry.event}" failed for good in ${entry.file}; kept in .c4c/dead-letters.jsonl — once it is fixed, run: c4c-runner replay`,
    );
  };

  const stats = (): RunnerStats => {
    const s = scheduler.stats;
    return {
      ...(pipeline?.stats ?? emptyPipelineStats()),
      running: s.running,
      waiting: s.waiting,
      peakRunning: s.peak,
      connection: connection?.state ?? 'idle',
      ...(catchUp ? { catchUp: { ...catchUp.stats } } : {}),
    };
  };

  const runner: Runner = {
    registry,
    done,
    get state() {
      return state;
    },
    get stats() {
      return stats();
    },
    metrics: () => ({
      ...recorder.snapshot(),
      state,
      handlersLoaded,
      catchingUp: catchUp?.pending ?? false,
      stats: stats(),
    }),
    close: (closeOptions) => close(closeOptions),
    dispatch(frame) {
      if (state !== 'running' || !pipeline)
        throw new C4cError(
          'E_CLOSED',
          `the runner is ${state}; dispatch() needs a running runner (await start() first)`,
        );
      return pipeline.accept(frame);
    },
    async start() {
      if (state !== 'idle')
        throw new C4cError(
          'E_CLOSED',
          `a runner starts once (this one is ${state}); create a new runner with createRunner()`,
        );
      state = 'starting';
      try {
        const token = config.platform.token;
        if (!token || !api) {
          throw new C4cError(
            'E_CONFIG',
            'no API token: set C4C_API_TOKEN, or platform.token in c4c.config.ts, or api_token in ~/.c4c/config.json (the same places the c4c client reads)',
          );
        }
        // A missing folder or a misnamed file fails here, before the platform sees a socket.
        if (options.handlerFiles !== false && !options.onHandlerProblem) await registry.checkNames();
        // The socket opens next: its handshake is in flight while the handlers load. Frames that
        // arrive meanwhile wait, in order, for the pipeline (docs/benchmarks.md, section 6).
        connection = new Connection({
          url: config.platform.wsUrl,
          token,
          heartbeat: { ...config.heartbeat },
          reconnect: { ...config.reconnect },
          // A rate limit is waited out, however long: a reply dropped after N refusals would be lost
          // with its message already acknowledged by a later one of the same employment.
          outbox: { maxRetries: Number.POSITIVE_INFINITY, ...config.outbox },
          logger: base,
          urlSource: describeSettingSource('url', config.platform.sources.url, config.configFile),
        });
        if (options.onConnectionState) connection.on('state', options.onConnectionState);
        const early: ServerFrame[] = [];
        const hold = (frame: ServerFrame): void => void early.push(frame);
        // A connection that gives up for good after its first open but before `running` fails the start.
        let lostEarly: C4cError | undefined;
        const loseEarly = (error: C4cError): void => void (lostEarly ??= error);
        connection.on('frame', hold);
        connection.on('error', loseEarly);
        const connecting = connection.connect();
        connecting.catch(() => {}); // awaited below, after the handlers: their error comes first, as before
        // Two turns of the event loop let the TCP connect complete and the upgrade request go out
        // before loading the handlers (mostly synchronous work) holds the thread; measured, the
        // platform then sees the socket while they load instead of after (bench/results/ab-startup2-*.md).
        await turn();
        await turn();
        const entries =
          options.handlerFiles === false
            ? []
            : await registry.loadAll(options.onHandlerProblem ? { onProblem: options.onHandlerProblem } : {});
        handlersLoaded = true;
        // A span per event when the application has @opentelemetry/api; nothing otherwise.
        tracer = await loadEventTracer();
        const fallback =
          options.fallback ??
          (config.webhook
            ? (await import('../webhook/fallback.js')).configWebhookFallback(config.webhook, base)
            : undefined);
        if (fallback) logger.info(`events without a handler file go to ${fallback.label}`);
        if (entries.length === 0 && options.handlerFiles !== false && !fallback)
          logger.warn(`no handler files in ${registry.dir}; every event will be dropped`);
        else if (entries.length > 0)
          logger.info(
            { handlers: entries.map((e) => e.label) },
            `loaded ${entries.length} handler(s): ${registry.names().join(', ')}`,
          );

        if (config.workers > 0) {
          // Loaded only when asked for: piscina stays out of a runner that does not use it.
          const { WorkerPool } = await import('./workers/pool.js');
          const pool = new WorkerPool({
            threads: config.workers,
            dir: registry.dir,
            root: config.root,
            entries,
            logger,
          });
          workers = pool;
          // Serving only once every thread has compiled the handlers (frames that arrive meanwhile wait).
          await pool.ready();
          logger.info(
            { workers: config.workers },
            `handlers run in ${config.workers} worker thread(s); the socket and heartbeat stay on the main thread`,
          );
        }
        pipeline = new Pipeline({
          registry,
          scheduler,
          ledger,
          api,
          send: (frame) => connection!.send(frame),
          // A returned reply is confirmed, not just written: the acknowledgement that follows must not outrun it.
          // Once written, the handler's slot is free; the acknowledgement still waits for the proof.
          sendConfirmed: (frame, onWritten) => connection!.send(frame, { until: 'confirmed', onWritten }),
          deliver: (frame, settle) => connection!.deliver(frame, 'confirmed', settle),
          logger,
          timeout: config.timeout,
          fallback,
          onOutcome: (outcome) => {
            recorder.outcome(outcome);
            tracer?.outcome(outcome);
            options.onOutcome?.(outcome);
          },
          retry: config.retry,
          onFailure,
          state: stateStore,
          executor: workers,
        });
        // Without acknowledgements nothing is ever marked read, so history cannot tell what is new.
        const live = options.live !== false;
        if (config.ack && live)
          catchUp = createCatchUp({
            api,
            registry,
            fallback,
            pipeline,
            scheduler,
            ledger,
            backlog: config.backlog,
            logger,
          });
        const onFrame = (frame: ServerFrame): void => {
          if (!live) return;
          recorder.frame(frame);
          options.onFrame?.(frame);
          if (catchUp) catchUp.deliver(frame);
          else pipeline!.accept(frame);
        };
        connection.on('open', ({ reconnected }) => {
          if (reconnected) {
            recorder.reconnected();
            logger.info('reconnected to the platform');
          }
          // What arrived while the runner was away (stopped, or between two sockets) is read from history.
          catchUp?.run();
        });
        // An open while the handlers loaded came before the listener above: its pass starts now, and
        // the frames held since then follow it, in order. Synchronous, so no frame slips between.
        if (connection.state === 'open') catchUp?.run();
        connection.off('frame', hold);
        for (const frame of early.splice(0)) onFrame(frame);
        connection.on('frame', onFrame);
        connection.on('undeliverable', ({ frame, code, message }) => {
          recorder.refused();
          const id = (frame as { messageId?: string }).messageId;
          logger.warn(
            { code, frame: { type: frame.type, messageId: id } },
            `the platform refused message ${id} for good (${code}): ${message}`,
          );
          // One a handler sent with ctx.reply/ctx.send: its event fails (a returned reply's send rejects).
          if (id !== undefined)
            pipeline?.undeliverable(
              id,
              new PlatformError(
                0,
                code,
                `the platform refused message ${id} for good (${code}): ${message}`,
                {
                  details: { messageId: id, undeliverable: true },
                },
              ),
            );
        });
        connection.on('error', (error) => {
          // The connection gave up for good (a token revoked mid-run, maxAttempts spent).
          if (state === 'running') void close({}, error);
        });
        await connecting;
        connection.off('error', loseEarly);
        if (lostEarly) throw lostEarly;
        state = 'running';
        // The connection already says "connected"; this line says how the runner is set up.
        logger.debug(
          {
            url: config.platform.url,
            tokenSource: config.platform.sources.token,
            concurrency: config.concurrency,
          },
          `runner ready: concurrency ${config.concurrency}, token from ${config.platform.sources.token}`,
        );
      } catch (error) {
        await close(
          { drainTimeout: 0 },
          error instanceof C4cError ? error : new C4cError('E_NETWORK', String(error), { cause: error }),
        );
        throw error;
      }
    },
  };
  registries.set(runner, registry);
  return runner;
}

/** One turn of the event loop: resolves after the poll phase has run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Each runner's mutable registry, for dev's watcher alone: users see `runner.registry`, a read-only view. */
const registries = new WeakMap<Runner, HandlerRegistry>();

/** The registry dev's watcher swaps handlers in. Not part of the public API. */
export function handlerRegistryOf(runner: Runner): HandlerRegistry {
  const registry = registries.get(runner);
  if (!registry) throw new C4cError('E_CONFIG', 'not a runner made by createRunner');
  return registry;
}

/** Writes what `ctx.state` holds back (and closes the store the runner made); a failure is logged, not thrown. */
async function flushState(store: StateStore, close: boolean, logger: Logger): Promise<void> {
  try {
    await (close && store.close ? store.close() : store.flush?.());
  } catch (error) {
    logger.error({ err: error }, `conversation state was not saved: ${(error as Error).message}`);
  }
}
