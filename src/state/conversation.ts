/**
 * `ctx.state`: one employment's JSON state, read and written through a {@link StateStore}.
 * Nothing is read or written until a handler calls it. `update` runs one at a time per key within
 * the process, so two handlers of the same employment (a message and a notification) never lose
 * each other's change.
 */
import { C4cError } from '../errors.js';
import type { StateStore } from './store.js';

/**
 * The state of the event's employment, as JSON. Give the type you keep as the generic.
 * @example
 * type Notes = { notes: string[] };
 * const { notes } = await ctx.state.update<Notes>((s) => ({ notes: [...(s?.notes ?? []), ctx.event.content] }));
 */
export interface ConversationState {
  /** The stored value, or `undefined` when nothing was stored yet. */
  get<T = unknown>(): Promise<T | undefined>;
  /** Replaces the value (any JSON: object, array, string, number, boolean, null); `undefined` deletes it. */
  set<T = unknown>(value: T): Promise<void>;
  /** Reads, changes and writes the value as one step for this employment; resolves with the new value. */
  update<T = unknown>(change: (current: T | undefined) => T | Promise<T>): Promise<T>;
  /** Removes the value. */
  delete(): Promise<void>;
}

/** Updates in flight, per store and key: the next waits for the one before. */
const queues = new WeakMap<StateStore, Map<string, Promise<unknown>>>();

/**
 * The `ctx.state` of one event. `owner` names the handler in errors (`handlers/message.ts`).
 * `key` is `undefined` for events without an employment: every call then rejects, saying so.
 */
export function conversationState(
  store: StateStore,
  key: string | undefined,
  owner: { label: string; event: string },
): ConversationState {
  const need = (): string => {
    if (key !== undefined) return key;
    throw new C4cError(
      'E_STATE',
      `${owner.label}: ctx.state is kept per employment, and "${owner.event}" has none; keep what this event needs with ctx.api, or in a store of your own`,
    );
  };
  const read = async <T>(k: string): Promise<T | undefined> => {
    const json = await store.get(k);
    if (json === undefined) return undefined;
    try {
      return JSON.parse(json) as T;
    } catch (error) {
      throw new C4cError(
        'E_STATE',
        `the state "${k}" in the store is not JSON; delete it with ctx.state.delete()`,
        {
          cause: error,
        },
      );
    }
  };
  const write = async (k: string, value: unknown): Promise<void> => {
    if (value === undefined) return store.delete(k);
    await store.set(k, toJson(value, owner.label));
  };
  const serial = <R>(k: string, step: () => Promise<R>): Promise<R> => {
    let byKey = queues.get(store);
    if (!byKey) queues.set(store, (byKey = new Map<string, Promise<unknown>>()));
    const previous = byKey.get(k) ?? Promise.resolve();
    const next = previous.then(step, step);
    const tail = next.catch(() => {});
    byKey.set(k, tail);
    void tail.then(() => {
      if (byKey.get(k) === tail) byKey.delete(k);
    });
    return next;
  };
  return {
    get: <T>() => (async () => read<T>(need()))(),
    set: (value) =>
      (async () => {
        const k = need();
        return serial(k, () => write(k, value));
      })(),
    delete: () =>
      (async () => {
        const k = need();
        return serial(k, () => store.delete(k));
      })(),
    update: <T>(change: (current: T | undefined) => T | Promise<T>) =>
      (async () => {
        const k = need();
        return serial(k, async () => {
          const next = await change(await read<T>(k));
          await write(k, next);
          return next;
        });
      })(),
  };
}

/** JSON text of a value, or an error that names the handler and what cannot be stored. */
function toJson(value: unknown, label: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new C4cError(
      'E_STATE',
      `${label}: ctx.state takes JSON, and this value cannot be written as JSON (${(error as Error).message}); store plain objects, arrays, strings, numbers, booleans and null`,
      { cause: error },
    );
  }
  if (json === undefined)
    throw new C4cError(
      'E_STATE',
      `${label}: ctx.state takes JSON, not a ${typeof value}; store plain objects, arrays, strings, numbers, booleans and null`,
    );
  return json;
}
