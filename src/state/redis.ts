/**
 * `ctx.state` in Redis: the default of `start --redis`, so a conversation's state follows it to
 * whichever process handles its next event. One Redis string per key (GET, SET, DEL); the client
 * is the runner's own (its connection and reconnects), so the store opens and closes nothing.
 */
import { C4cError } from '../errors.js';
import type { StateStore } from './store.js';

/** The commands the store needs: those of an ioredis or node-redis client. */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<number>;
}

/** Settings of a {@link RedisStateStore}. */
export interface RedisStateStoreOptions {
  client: RedisLike;
  /** Put before every key, e.g. `c4c:<agent>:state:`. */
  prefix: string;
}

/** A {@link StateStore} over Redis; every write is sent at once (nothing to flush). */
export class RedisStateStore implements StateStore {
  readonly #client: RedisLike;
  readonly #prefix: string;

  constructor(options: RedisStateStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#call('read', key, () => this.#client.get(this.#prefix + key))) ?? undefined;
  }

  async set(key: string, json: string): Promise<void> {
    await this.#call('write', key, () => this.#client.set(this.#prefix + key, json));
  }

  async delete(key: string): Promise<void> {
    await this.#call('delete', key, () => this.#client.del(this.#prefix + key));
  }

  async #call<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new C4cError(
        'E_STATE',
        `could not ${what} state "${key}" in Redis: ${(error as Error).message}; the handler may run again once Redis is back`,
        { cause: error, details: { key } },
      );
    }
  }
}
