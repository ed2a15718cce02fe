/**
 * `workers: n`: handlers run in a pool of n worker threads (piscina), so a CPU-bound handler cannot
 * starve the main thread, where the socket, heartbeat, ledger, outbox and scheduler stay. Each task
 * gets a MessagePort: the worker's `ctx.reply`/`send`/`api`/`state`/`history`/`log` become calls on
 * it, answered here with the main thread's own `ctx` (so the reply ids, the unobserved-rejection
 * guard and the state store's update order are the in-process ones).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { C4cError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Context } from '../context.js';
import type { HandlerExecutor } from '../executor.js';
import { HANDLER_EXTENSIONS, type HandlerEntry } from '../registry.js';
import type { WorkerData } from './worker.js';
import {
  READY,
  fromWire,
  logArgsFromWire,
  toWire,
  type FromWorker,
  type TaskInput,
  type ToWorker,
} from './wire.js';

/** Settings of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** How many threads. */
  threads: number;
  /** The handlers folder and the project root, absolute (as the runner's registry has them). */
  dir: string;
  root: string;
  /** The handlers loaded now: every thread compiles them before it takes its first event. */
  entries?: readonly HandlerEntry[];
  /** The runner's logger: its level decides what a worker bothers to send. */
  logger: Logger;
  /**
   * After `ctx.signal` aborts, how long a handler has to return before its thread is terminated
   * (and replaced). @default 1000
   */
  abortGrace?: number;
}

/**
 * The worker's file. Built, the two sit side by side (dist/bundle/, or dist/runner/workers/ unbundled).
 * Under vitest the runner runs from src/*.ts, which Node 20 cannot run in a thread; the bundled copy
 * runs there (`npm test` builds first), the one a handler's `import 'c4c-runner'` shares classes with.
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return join(dirname(here), 'worker.js');
  const index = here.lastIndexOf(`${sep}src${sep}`);
  return join(here.slice(0, index), 'dist', 'bundle', 'worker.js');
}

/** A pool of threads that runs handler files; see the module comment. */
export class WorkerPool implements HandlerExecutor {
  readonly #pool: Piscina;
  readonly #o: WorkerPoolOptions;
  readonly #grace: number;
  /** A version per loaded entry: a reload (a new entry) makes the workers load the file afresh. */
  readonly #versions = new WeakMap<HandlerEntry, number>();
  #nextVersion = 1;
  #closed = false;
  readonly #ready: Promise<void>;

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
    this.#grace = options.abortGrace ?? 1000;
    const preload: WorkerData = {
      dir: options.dir,
      root: options.root,
      files: (options.entries ?? [])
        .filter((entry) => this.#isHandlerFile(entry))
        .map((entry) => ({ file: entry.file, version: this.#versionOf(entry) })),
    };
    this.#pool = new Piscina({
      workerData: preload,
      // The thread's event loop runs between tasks as well (a handler module's timers, late log lines),
      // instead of piscina's Atomics.wait.
      atomics: 'disabled',
      filename: workerFile(),
      minThreads: options.threads,
      maxThreads: options.threads,
      // One handler per thread: terminating a runaway one must not take others with it.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    let started = 0;
    this.#ready = new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (typeof message !== 'object' || message === null || !(READY in message)) return;
        if (++started < options.threads) return;
        this.#pool.off('message', onMessage);
        this.#pool.off('error', onError);
        resolve();
      };
      // A thread that cannot start (its module failed to load) would otherwise leave start() waiting for ever.
      const onError = (error: unknown): void => {
        this.#pool.off('message', onMessage);
        this.#pool.off('error', onError);
        reject(
          new C4cError(
            'E_WORKER',
            `a worker thread could not start: ${error instanceof Error ? error.message : String(error)}; run without --workers, or reinstall c4c-runner`,
            { cause: error },
          ),
        );
      };
      this.#pool.on('message', onMessage);
      this.#pool.on('error', onError);
    });
    this.#ready.catch(() => {}); // observed by whoever awaits ready(); never an unhandled rejection
  }

  /**
   * Resolves once every thread has loaded the handler files, so the first events do not spend their
   * time limit on compiling them. Rejects with `E_WORKER` when a thread fails to start.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** How many threads the pool keeps. */
  get threads(): number {
    return this.#o.threads;
  }

  run(entry: HandlerEntry, ctx: Context): Promise<unknown> {
    // Not a handler file (the webhook fallback, connect's printer): a function of this thread, run here.
    if (!this.#isHandlerFile(entry)) return Promise.resolve(entry.handle(ctx));
    if (this.#closed) return Promise.reject(new C4cError('E_CLOSED', 'the worker pool is closed'));
    const version = this.#versionOf(entry);
    const { port1, port2 } = new MessageChannel();
    const input: TaskInput = {
      port: port2,
      file: entry.file,
      version,
      dir: this.#o.dir,
      root: this.#o.root,
      name: ctx.name,
      event: ctx.event,
      history: typeof (ctx as { history?: unknown }).history === 'function',
      logLevel: this.#o.logger.levelVal,
    };
    const terminate = new AbortController();
    const { signal } = ctx;
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      let kill: NodeJS.Timeout | undefined;
      const updates = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
      const finish = (): void => {
        settled = true;
        clearTimeout(kill);
        signal.removeEventListener('abort', onAbort);
        port1.close();
        for (const update of updates.values())
          update.reject(new C4cError('E_WORKER', `${entry.label} ended during ctx.state.update()`));
      };
      const onMessage = (message: FromWorker): void => {
        if (settled) return;
        if (message.t === 'done') {
          finish();
          if (message.ok) resolve(message.value);
          else reject(fromWire(message.error));
        } else if (message.t === 'log') {
          let log = ctx.log;
          for (const bindings of message.bindings) log = log.child(bindings);
          Reflect.apply(log[message.level], log, logArgsFromWire(message.args));
        } else if (message.t === 'call') {
          void this.#answer(ctx, port1, message, updates);
        } else if (message.t === 'change') {
          const update = updates.get(message.id);
          updates.delete(message.id);
          if (message.ok) update?.resolve(message.value);
          else update?.reject(fromWire(message.error));
        }
      };
      const onAbort = (): void => {
        send(port1, { t: 'abort', reason: toWire(signal.reason) });
        // A handler that ignores its signal (a busy loop) loses its thread; piscina starts a new one.
        kill = setTimeout(() => {
          ctx.log.warn(
            `${entry.label} ignored ctx.signal for ${this.#grace} ms after it was aborted; its worker thread is terminated and replaced`,
          );
          terminate.abort();
        }, this.#grace);
        kill.unref();
      };
      port1.on('message', onMessage);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.#pool.run(input, { transferList: [port2] as never, signal: terminate.signal }).then(
        () => {
          // The worker posted 'done' before its task returned; it may still sit in the port's queue.
          for (
            let queued = receiveMessageOnPort(port1);
            queued && !settled;
            queued = receiveMessageOnPort(port1)
          )
            onMessage(queued.message as FromWorker);
          if (!settled) {
            finish();
            reject(new C4cError('E_WORKER', `${entry.label}: its worker thread returned no result`));
          }
        },
        (error: unknown) => {
          if (settled) return;
          finish();
          reject(
            terminate.signal.aborted
              ? new C4cError(
                  'E_WORKER',
                  `${entry.label} ignored ctx.signal for ${this.#grace} ms after it was aborted; its worker thread was terminated and replaced`,
                  { cause: signal.reason },
                )
              : new C4cError(
                  'E_WORKER',
                  `${entry.label}: its worker thread failed: ${error instanceof Error ? error.message : String(error)}`,
                  { cause: error },
                ),
          );
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.destroy();
  }

  #versionOf(entry: HandlerEntry): number {
    let version = this.#versions.get(entry);
    if (version === undefined) this.#versions.set(entry, (version = this.#nextVersion++));
    return version;
  }

  #isHandlerFile(entry: HandlerEntry): boolean {
    return (
      dirname(entry.file) === this.#o.dir &&
      (HANDLER_EXTENSIONS as readonly string[]).includes(extname(entry.file))
    );
  }

  /** Answers a worker's call with the main thread's `ctx`. */
  async #answer(
    ctx: Context,
    port: MessagePort,
    message: Extract<FromWorker, { t: 'call' }>,
    updates: Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>,
  ): Promise<void> {
    const { id, path, args } = message;
    try {
      const value = await this.#call(ctx, path, args, (current) => {
        return new Promise((resolveChange, rejectChange) => {
          updates.set(id, { resolve: resolveChange, reject: rejectChange });
          send(port, { t: 'current', id, value: current });
        });
      });
      try {
        port.postMessage({ t: 'result', id, ok: true, value } satisfies ToWorker);
      } catch (error) {
        send(port, {
          t: 'result',
          id,
          ok: false,
          error: toWire(
            new C4cError('E_WORKER', `the result of ctx.${path}() cannot be passed to the worker thread`, {
              cause: error,
            }),
          ),
        });
      }
    } catch (error) {
      send(port, { t: 'result', id, ok: false, error: toWire(error) });
    }
  }

  #call(
    ctx: Context,
    path: string,
    args: readonly unknown[],
    change: (current: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    const list = args as unknown[];
    switch (path) {
      case 'reply':
        return ctx.reply(list[0] as never);
      case 'send':
        return ctx.send(list[0] as never, list[1] as never);
      case 'history': {
        const history = (ctx as { history?: (o?: unknown) => Promise<unknown> }).history;
        return history ? history.call(ctx, { ...(list[0] as object), signal: ctx.signal }) : missing(path);
      }
      case 'state.get':
        return ctx.state.get();
      case 'state.set':
        return ctx.state.set(list[0]);
      case 'state.delete':
        return ctx.state.delete();
      case 'state.update':
        return ctx.state.update(change);
    }
    if (path.startsWith('api.')) {
      const api = ctx.api as unknown as Record<string, unknown>;
      const method = api[path.slice(4)];
      if (typeof method === 'function') return (method as (...a: unknown[]) => Promise<unknown>)(...list);
    }
    return missing(path);
  }
}

function missing(path: string): Promise<never> {
  return Promise.reject(new TypeError(`ctx.${path} is not a function`));
}

/** Posts to a port that may be closed already (the event ended): nothing is waiting then. */
function send(port: MessagePort, message: ToWorker): void {
  try {
    port.postMessage(message);
  } catch {
    // closed: the worker's task is over
  }
}
