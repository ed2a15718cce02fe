/**
 * `defineHandler`: names a handler's event so that `ctx` is typed and its return value is checked
 * against the event's reply rule. The registry checks the name against the file name.
 */
import type { EventName } from '../protocol/events.js';
import type { ReplyOf } from '../protocol/replies.js';
import type { Context } from './context.js';

/** A handler: gets the context, returns the reply (or nothing). */
export type Handler<E extends EventName = EventName> = (ctx: Context<E>) => ReplyOf<E> | Promise<ReplyOf<E>>;

/** The object form of `defineHandler`. */
export interface HandlerOptions<E extends EventName> {
  /** The handler itself. */
  handle: Handler<E>;
  /** Time limit for this handler in ms, overriding the config's `timeout`. */
  timeout?: number;
}

/**
 * Marks `defineHandler` results. `Symbol.for`, not a private symbol: a handler file may resolve
 * `c4c-runner` to another copy of this module than the runner's own (dist vs. source, linked package).
 */
export const HANDLER_BRAND: unique symbol = Symbol.for('c4c-runner.handler') as never;

/** What `defineHandler` returns and a handler file default-exports. */
export interface HandlerDefinition<E extends EventName = EventName> {
  readonly [HANDLER_BRAND]: true;
  readonly event: E;
  readonly handle: Handler<E>;
  readonly timeout: number | undefined;
}

/**
 * Defines the handler of one event.
 * @example
 * // handlers/message.ts
 * export default defineHandler('message', async (ctx) => `echo: ${ctx.event.content}`);
 * @example
 * // handlers/service-invoked.ts
 * export default defineHandler('service-invoked', { timeout: 5_000, handle: (ctx) => ({ ok: true }) });
 */
export function defineHandler<E extends EventName>(event: E, handle: Handler<E>): HandlerDefinition<E>;
export function defineHandler<E extends EventName>(
  event: E,
  options: HandlerOptions<E>,
): HandlerDefinition<E>;
export function defineHandler<E extends EventName>(
  event: E,
  handler: Handler<E> | HandlerOptions<E>,
): HandlerDefinition<E> {
  const options = typeof handler === 'function' ? { handle: handler } : handler;
  return Object.freeze({
    [HANDLER_BRAND]: true as const,
    event,
    handle: options.handle,
    timeout: options.timeout,
  });
}

/** Whether a module's default export came from `defineHandler` (any copy of c4c-runner). */
export function isHandlerDefinition(value: unknown): value is HandlerDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HANDLER_BRAND] === true
  );
}
