/**
 * What the main thread and a handler's worker thread say to each other over the task's
 * MessagePort, and how errors cross: structured clone keeps an Error's message but not its class or
 * its `code`, so errors travel as plain records and are rebuilt as the same class on the other side.
 */
import type { MessagePort } from 'node:worker_threads';
import { C4cError, PlatformError, type C4cErrorCode } from '../../errors.js';
import { RetryLaterError } from '../retry.js';

/** An error as it crosses a thread. */
export interface WireError {
  readonly kind: 'error';
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own properties that could be cloned (`code`, `details`, `status`, a library's own fields…). */
  readonly props: Record<string, unknown>;
  readonly cause?: WireError | { readonly kind: 'value'; readonly value: unknown };
  /** Whether it was a RetryLaterError (a brand, not a name: it must keep its retry meaning). */
  readonly retryLater?: boolean;
  /** Whether it was a C4cError (or a subclass): it comes back as one, with its `code`. */
  readonly c4c?: boolean;
}

/** Something thrown that is not an Error (a string, an object). */
export interface WireThrown {
  readonly kind: 'value';
  readonly value: unknown;
}

/** Main → worker: the work of one task. The port is transferred with it. */
export interface TaskInput {
  readonly port: MessagePort;
  /** The handler file, absolute. */
  readonly file: string;
  /** Bumped by the main thread each time the file was reloaded (dev): a new version loads afresh. */
  readonly version: number;
  /** The handlers folder and the project root, for the worker's registry. */
  readonly dir: string;
  readonly root: string;
  readonly name: string;
  readonly event: unknown;
  /** Whether the main context has `history()` (message events). */
  readonly history: boolean;
  /** The lowest level the main logger writes, so the worker skips what would be dropped. */
  readonly logLevel: number;
}

/** Worker → main. */
export type FromWorker =
  /** A call the worker cannot make itself: `reply`, `send`, `history`, `api.<method>`, `state.<method>`. */
  | { readonly t: 'call'; readonly id: number; readonly path: string; readonly args: readonly unknown[] }
  /** The new value of a `state.update` whose current value the main thread sent. */
  | { readonly t: 'change'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'change'; readonly id: number; readonly ok: false; readonly error: WireError | WireThrown }
  /** A line for `ctx.log` (or a child of it). */
  | {
      readonly t: 'log';
      readonly level: LogLevel;
      readonly bindings: readonly Record<string, unknown>[];
      readonly args: readonly unknown[];
    }
  /** The handler finished. */
  | { readonly t: 'done'; readonly ok: true; readonly value: unknown }
  | { readonly t: 'done'; readonly ok: false; readonly error: WireError | WireThrown };

/** Main → worker. */
export type ToWorker =
  | { readonly t: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'result'; readonly id: number; readonly ok: false; readonly error: WireError | WireThrown }
  /** The current value for a `state.update` (the main thread holds the employment's update turn meanwhile). */
  | { readonly t: 'current'; readonly id: number; readonly value: unknown }
  /** `ctx.signal` aborted on the main thread (timeout, shutdown). */
  | { readonly t: 'abort'; readonly reason: WireError | WireThrown };

/** The key of the message a thread posts once its handler files are loaded. */
export const READY = 'c4cWorkerReady';

/** The log methods a handler may call. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** pino's numbers for the levels. */
export const LEVEL_VALUES: Record<LogLevel, number> = {
  fatal: 60,
  error: 50,
  warn: 40,
  info: 30,
  debug: 20,
  trace: 10,
};

/** Turns anything thrown into what can cross a thread. */
export function toWire(error: unknown, depth = 0): WireError | WireThrown {
  if (!(error instanceof Error)) return { kind: 'value', value: cloneable(error) };
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause' || key === 'name' || key === 'message' || key === 'stack') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (isCloneable(value)) props[key] = value;
  }
  const cause = (error as { cause?: unknown }).cause;
  return {
    kind: 'error',
    name: error.name,
    message: error.message,
    stack: error.stack,
    props,
    ...(cause === undefined || depth > 8 ? {} : { cause: toWire(cause, depth + 1) }),
    ...(error instanceof RetryLaterError ? { retryLater: true } : {}),
    ...(error instanceof C4cError ? { c4c: true } : {}),
  };
}

const BUILT_IN: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Rebuilds an error on this side: the runner's own classes (C4cError and its subclasses by `code`,
 * PlatformError, RetryLaterError) and the built-in ones come back as themselves, with the same name,
 * message, stack (the worker's), own properties and cause; any other class comes back as an Error
 * with its name.
 */
export function fromWire(wire: WireError | WireThrown): unknown {
  if (wire.kind === 'value') return wire.value;
  const { props } = wire;
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  const options = cause === undefined ? {} : { cause };
  const details = props.details as Record<string, unknown> | undefined;
  let error: Error;
  if (wire.retryLater) {
    error = new RetryLaterError(wire.message, {
      ...options,
      ...(typeof props.delay === 'number' ? { delay: props.delay } : {}),
    });
  } else if (typeof props.status === 'number' && typeof props.platformCode === 'string') {
    error = new PlatformError(props.status, props.platformCode, wire.message, {
      ...options,
      ...(details ? { details } : {}),
    });
  } else if (wire.c4c && typeof props.code === 'string') {
    error = new C4cError(props.code as C4cErrorCode, wire.message, {
      ...options,
      ...(details ? { details } : {}),
    });
  } else {
    const Built = BUILT_IN[wire.name] ?? Error;
    error = new Built(wire.message);
    if (cause !== undefined)
      Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  }
  for (const [key, value] of Object.entries(props)) {
    if (!(key in error) || (error as unknown as Record<string, unknown>)[key] === undefined)
      Object.defineProperty(error, key, { value, enumerable: true, configurable: true, writable: true });
  }
  // The class name the worker saw (WebhookError, a library's own error), read as it was thrown.
  if (error.name !== wire.name)
    Object.defineProperty(error, 'name', {
      value: wire.name,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  if (wire.stack !== undefined)
    Object.defineProperty(error, 'stack', { value: wire.stack, configurable: true, writable: true });
  return error;
}

/** Whether a value survives structured clone (probed, not guessed: the rules are long). */
export function isCloneable(value: unknown): boolean {
  if (value === null || typeof value !== 'object')
    return typeof value !== 'function' && typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function cloneable(value: unknown): unknown {
  return isCloneable(value) ? value : String(value);
}

/** Errors inside a log call's arguments travel as {@link WireError}s under this key. */
export const ERROR_MARK = '__c4cWireError';

/** Log arguments made cloneable: errors (at the top level of a merging object too) become wire records. */
export function logArgsToWire(args: readonly unknown[]): unknown[] {
  return args.map((arg) => {
    if (arg instanceof Error) return { [ERROR_MARK]: toWire(arg) };
    if (typeof arg !== 'object' || arg === null) return arg;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(arg)) {
      out[key] =
        value instanceof Error ? { [ERROR_MARK]: toWire(value) } : isCloneable(value) ? value : String(value);
    }
    return out;
  });
}

/** The inverse of {@link logArgsToWire}. */
export function logArgsFromWire(args: readonly unknown[]): unknown[] {
  const revive = (value: unknown): unknown =>
    typeof value === 'object' && value !== null && ERROR_MARK in value
      ? fromWire((value as Record<string, WireError>)[ERROR_MARK]!)
      : value;
  return args.map((arg) => {
    const top = revive(arg);
    if (top !== arg || typeof arg !== 'object' || arg === null) return top;
    return Object.fromEntries(Object.entries(arg).map(([key, value]) => [key, revive(value)]));
  });
}
