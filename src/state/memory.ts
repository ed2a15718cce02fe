/**
 * The memory store: the default in `dev`. Values are kept as JSON text, so a handler that changes
 * an object it read sees the change only after `set`, exactly as with a file or network store.
 */
import type { StateStore } from './store.js';

/** A {@link StateStore} in a Map: fast, and gone when the process ends. */
export class MemoryStateStore implements StateStore {
  readonly #values = new Map<string, string>();

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#values.get(key));
  }

  set(key: string, json: string): Promise<void> {
    this.#values.set(key, json);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#values.delete(key);
    return Promise.resolve();
  }

  /** How many keys it holds (tests, the dev banner). */
  get size(): number {
    return this.#values.size;
  }
}
