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

/** A promise that reports its rejection to `onUnobserved` unless someone chains onto it. */
export function observed<T>(promise: Promise<T>, call: string, onUnobserved: OnUnobserved): Promise<T> {
  let watched = false;
  const tracked = new Promise<T>((resolve, reject) => {
    void promise.then(resolve, (error: unknown) => {
      reject(error);
      // A turn later: `Promise.all([...])` or a `.catch` added right after the call still counts.
      setImmediate(() => {
        if (!watched) onUnobserved(error, call);
      });
    });
  });
  // The tracked promise never becomes an unhandled rejection itself; what the caller chains does as usual.
  void Promise.prototype.catch.call(tracked, () => {});
  const then = tracked.then.bind(tracked);
  void Object.defineProperty(tracked, 'then', {
    value: ((onFulfilled, onRejected) => {
      watched = true;
      return then(onFulfilled, onRejected);
    }) as Promise<T>['then'],
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
