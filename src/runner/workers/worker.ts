/**
 * The inside of a worker thread: loads handler files the way the main thread does (jiti, through a
 * HandlerRegistry of its own) and runs one handler per task with a `ctx` whose calls that need the
 * socket, the REST client or the state store go to the main thread over the task's port.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { C4cError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { observed } from '../observe.js';
import { HandlerRegistry, type HandlerEntry } from '../registry.js';
import {
  fromWire,
  LEVEL_VALUES,
  LOG_LEVELS,
  logArgsToWire,
  toWire,
  type FromWorker,
  type LogLevel,
  type TaskInput,
  type ToWorker,
  READY,
} from './wire.js';

/** One registry per handlers folder (one in practice), and the version of each file it loaded. */
const registries = new Map<string, HandlerRegistry>();
const loaded = new Map<string, { version: number; entry: Promise<HandlerEntry> }>();

function load(input: TaskInput): Promise<HandlerEntry> {
  const known = loaded.get(input.file);
  if (known && known.version === input.version) return known.entry;
  let registry = registries.get(input.dir);
  if (!registry)
    registries.set(input.dir, (registry = new HandlerRegistry({ dir: input.dir, root: input.root })));
  // A newer version (dev reloaded the file): its local imports may have changed too, as on the main thread.
  if (known) registry.forgetLocalModules(input.root);
  const entry = registry.load(input.file);
  loaded.set(input.file, { version: input.version, entry });
  entry.catch(() => {
    if (loaded.get(input.file)?.entry === entry) loaded.delete(input.file);
  });
  return entry;
}

/** What the pool hands every thread at its start: the handler files to load before the first event. */
export interface WorkerData {
  readonly dir: string;
  readonly root: string;
  readonly files: readonly { readonly file: string; readonly version: number }[];
}

// Piscina awaits this module before it calls the thread ready: the files are compiled before the
// first event, whose time limit then covers the handler alone. A file that fails here fails again,
// with its error, when an event needs it.
const preload = workerData as WorkerData | undefined;
if (preload?.files) {
  await Promise.allSettled(
    preload.files.map(({ file, version }) =>
      load({ file, version, dir: preload.dir, root: preload.root } as TaskInput),
    ),
  );
}
// Piscina counts a thread ready as soon as it is spawned; this says when it really is (WorkerPool.ready).
parentPort?.postMessage({ [READY]: true });

/** Piscina's task function: runs one handler; everything it says goes over `input.port`. */
export default async function runTask(input: TaskInput): Promise<void> {
  const { port } = input;
  const post = (message: FromWorker): void => port.postMessage(message);
  const controller = new AbortController();
  const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  const changes = new Map<number, (current: unknown) => unknown>();
  let next = 0;

  port.on('message', (message: ToWorker) => {
    if (message.t === 'result') {
      const call = calls.get(message.id);
      calls.delete(message.id);
      changes.delete(message.id);
      if (message.ok) call?.resolve(message.value);
      else call?.reject(fromWire(message.error));
    } else if (message.t === 'current') {
      const change = changes.get(message.id);
      if (!change) return;
      void (async () => {
        try {
          const value = await change(message.value);
          postOr(port, { t: 'change', id: message.id, ok: true, value }, 'the new state');
        } catch (error) {
          post({ t: 'change', id: message.id, ok: false, error: toWire(error) });
        }
      })();
    } else if (message.t === 'abort') {
      controller.abort(fromWire(message.reason));
    }
  });

  const log = workerLogger(port, [], input.logLevel);
  const unobserved = (error: unknown, call: string): void =>
    log.warn({ err: error, call }, `${call}() from ${input.file} failed and was not awaited`);
  const call = (
    path: string,
    args: readonly unknown[],
    change?: (current: unknown) => unknown,
  ): Promise<unknown> => {
    const id = next++;
    const promise = new Promise<unknown>((resolve, reject) => {
      calls.set(id, { resolve, reject });
      if (change) changes.set(id, change);
      try {
        post({ t: 'call', id, path, args });
      } catch (error) {
        calls.delete(id);
        changes.delete(id);
        reject(cloneError(error, `the arguments of ctx.${path}()`));
      }
    });
    return observed(promise, `ctx.${path}`, unobserved);
  };

  try {
    const entry = await load(input);
    // Aborted while the thread was busy loading the file (its first event): its time is up before it began.
    if (controller.signal.aborted) throw controller.signal.reason;
    const ctx = {
      name: input.name,
      event: input.event,
      file: input.file,
      log,
      signal: controller.signal,
      reply: (content: unknown) => call('reply', [content]),
      send: (employmentId: unknown, content: unknown) => call('send', [employmentId, content]),
      api: new Proxy(
        {},
        {
          get: (_target, property) =>
            typeof property === 'string' && property !== 'then'
              ? (...args: unknown[]) => call(`api.${property}`, withoutSignals(args))
              : undefined,
        },
      ),
      state: {
        get: () => call('state.get', []),
        set: (value: unknown) => call('state.set', [value]),
        delete: () => call('state.delete', []),
        update: (change: (current: unknown) => unknown) => {
          if (typeof change !== 'function')
            return Promise.reject(
              new TypeError(`ctx.state.update() takes a function (current) => next, got ${typeof change}`),
            );
          return call('state.update', [], change);
        },
      },
      ...(input.history
        ? {
            history: (options?: unknown) =>
              call('history', withoutSignals(options === undefined ? [] : [options])),
          }
        : {}),
    };
    const value = await entry.handle(ctx as never);
    postOr(port, { t: 'done', ok: true, value }, `the value ${input.file} returned`);
  } catch (error) {
    post({ t: 'done', ok: false, error: toWire(error) });
  }
}

/** Posts a message whose value came from user code; one that cannot be cloned becomes a clear error. */
function postOr(port: MessagePort, message: Extract<FromWorker, { ok: true }>, what: string): void {
  try {
    port.postMessage(message);
  } catch (error) {
    const { value: _value, ...rest } = message;
    port.postMessage({ ...rest, ok: false, error: toWire(cloneError(error, what)) });
  }
}

function cloneError(error: unknown, what: string): C4cError {
  return new C4cError(
    'E_WORKER',
    `${what} cannot leave the worker thread: ${error instanceof Error ? error.message : String(error)}; with workers, what crosses between threads must be plain data (objects, arrays, strings, numbers, Dates, Maps…: no functions, class instances with methods, or sockets)`,
    { cause: error },
  );
}

/** An AbortSignal cannot cross threads; the main thread passes its own `ctx.signal`, aborted at the same moments. */
function withoutSignals(args: unknown[]): unknown[] {
  return args.map((arg) => {
    if (typeof arg !== 'object' || arg === null || !('signal' in arg)) return arg;
    const { signal: _signal, ...rest } = arg as Record<string, unknown>;
    return rest;
  });
}

/** `ctx.log` in a worker: each line goes to the main thread's logger for this event, child bindings and all. */
function workerLogger(
  port: MessagePort,
  bindings: readonly Record<string, unknown>[],
  minimum: number,
): Logger {
  const logger: Record<string, unknown> = {
    child: (more: Record<string, unknown>) => workerLogger(port, [...bindings, more], minimum),
    isLevelEnabled: (level: string) => (LEVEL_VALUES[level as LogLevel] ?? 0) >= minimum,
    bindings: () => Object.assign({}, ...bindings) as Record<string, unknown>,
  };
  for (const level of LOG_LEVELS) {
    logger[level] = (...args: unknown[]): void => {
      if (LEVEL_VALUES[level] < minimum) return;
      const message: FromWorker = { t: 'log', level, bindings, args: logArgsToWire(args) };
      try {
        port.postMessage(message);
      } catch {
        // A closed port (the event is over): a late line has nowhere to go, as after a process exit.
      }
    };
  }
  logger.silent = () => {};
  return logger as unknown as Logger;
}
