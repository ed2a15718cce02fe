/**
 * The one interface every conversation-state store implements: async and per key, values as JSON
 * text, so that a store over the network (Redis: GET, SET, DEL) is as natural as one in memory.
 * `ctx.state` is built on it (src/state/conversation.ts); the stores are memory.ts and file.ts.
 */
import { idKey, type Id } from '../protocol/ids.js';

/**
 * Where `ctx.state` keeps each employment's state. Keys are short ASCII strings
 * (`employment:42`); values are JSON text, as `JSON.stringify` wrote it.
 * @example
 * // a store of your own, given in c4c.config.ts as `state: myStore`
 * const myStore: StateStore = {
 *   get: (key) => redis.get(`c4c:${key}`).then((v) => v ?? undefined),
 *   set: async (key, json) => void (await redis.set(`c4c:${key}`, json)),
 *   delete: async (key) => void (await redis.del(`c4c:${key}`)),
 * };
 */
export interface StateStore {
  /** The JSON text stored under `key`, or `undefined` when there is none. */
  get(key: string): Promise<string | undefined>;
  /** Stores JSON text under `key`. May return before it is durable (a write-behind store). */
  set(key: string, json: string): Promise<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Makes every write so far durable. Called when the runner closes. */
  flush?(): Promise<void>;
  /** Releases what the store holds (timers, connections) after a last flush. Safe to call twice. */
  close?(): Promise<void>;
}

/** The key of an employment's state. */
export function employmentStateKey(employmentId: Id): string {
  return `employment:${idKey(employmentId)}`;
}

/** Whether a value has the shape of a {@link StateStore} (a user's store from the config). */
export function isStateStore(value: unknown): value is StateStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return (
    typeof store.get === 'function' && typeof store.set === 'function' && typeof store.delete === 'function'
  );
}
