/**
 * Promises a handler may forget to await. A rejection nobody observes would be an unhandled
 * rejection — on Node, a crash of the whole runner, every other employment's work with it. The
 * promises handed to handlers are tracked instead: if one rejects and the handler never attached a
 * `then`/`catch`/`finally`/`await` to it, the rejection is reported (logged against the handler and
 * its event) and goes no further. One that is awaited behaves exactly like the original.
 */
import type { ApiClient } from '../api/client.js';

/** Called once for a rejection no one observed, with the call that made it (e.g. `ctx.api.employment`). */
export type OnUnobserved = (error: unknown, call: string) => void;

/**
 * A promise that knows whether anyone chained onto it. A subclass, not a patched `then`: `await` on a
 * plain promise skips its `then` property, but on a subclass it calls `then`, as `Promise.all`,
 * `.catch` and `.finally` do. Its derived promises are plain ones (species).
 */
class WatchedPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #onWatch: (() => void) | undefined;

  /** Called at the first `then` (or `await`, `catch`, `finally`) from now on. */
  watch(onWatch: () => void): void {
    this.#onWatch = onWatch;
  }

  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.#onWatch?.();
    return super.then(onFulfilled, onRejected);
  }
}

/** A promise that reports its rejection to `onUnobserved` unless someone chains onto it. */
export function observed<T>(promise: Promise<T>, call: string, onUnobserved: OnUnobserved): Promise<T> {
  let watched = false;
  const tracked = new WatchedPromise<T>((resolve, reject) => {
    void promise.then(resolve, (error: unknown) => {
      reject(error);
      // A turn later: `Promise.all([...])` or a `.catch` added right after the call still counts.
      setImmediate(() => {
        if (!watched) onUnobserved(error, call);
      });
    });
  });
  // The tracked promise never becomes an unhandled rejection itself (this chaining is not the caller's).
  void Promise.prototype.catch.call(tracked, () => {});
  tracked.watch(() => {
    watched = true;
  });
  return tracked;
}

/**
 * `ctx.api` for one event: every method's promise is {@link observed}. The client itself is shared;
 * this is a thin view over it (its private state stays on the real client).
 */
export function observedApi(api: ApiClient, onUnobserved: OnUnobserved): ApiClient {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise
          ? observed(result, `ctx.api.${String(property)}`, onUnobserved)
          : result;
      };
    },
  });
}
