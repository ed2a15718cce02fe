/**
 * Every frame a party receives, kept in arrival order, with a way to await the first one that
 * matches: frames that arrived before the wait began count too, so a fast agent can never answer
 * "too early" for a test.
 */
import type { ServerFrame } from '../protocol/frames.js';
import { TestTimeoutError } from './errors.js';

interface Waiter {
  from: number;
  match: (frame: ServerFrame) => boolean;
  resolve: (index: number) => void;
}

export class Inbox {
  readonly frames: ServerFrame[] = [];
  readonly #waiters = new Set<Waiter>();

  push(frame: ServerFrame): void {
    const index = this.frames.push(frame) - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.match(frame)) {
        this.#waiters.delete(waiter);
        waiter.resolve(index);
      }
    }
  }

  /**
   * The index of the first frame at or after `from` that matches, once it has arrived; rejects
   * with a {@link TestTimeoutError} carrying `hint` after `timeout` ms.
   */
  next(match: (frame: ServerFrame) => boolean, { from = 0, timeout, hint }: { from?: number; timeout: number; hint: string | (() => string) }): Promise<number> {
    for (let i = from; i < this.frames.length; i++) if (match(this.frames[i]!)) return Promise.resolve(i);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new TestTimeoutError(`${typeof hint === 'function' ? hint() : hint} (waited ${timeout} ms)`));
      }, timeout);
      timer.unref();
      const waiter: Waiter = {
        from,
        match,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}
