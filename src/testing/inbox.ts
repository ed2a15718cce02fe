/**
 * Every frame a party receives, kept in arrival order, with a way to await the first one that
 * matches: frames that arrived before the wait began count too, so a fast agent can never answer
 * "too early" for a test. A wait may claim the frame it gets, so that concurrent waits for "the
 * next reply" each get their own, in the order they began.
 */
import type { ServerFrame } from '../protocol/frames.js';
import { TestTimeoutError } from './errors.js';

interface Waiter {
  from: number;
  claim: boolean;
  match: (frame: ServerFrame) => boolean;
  resolve: (index: number) => void;
}

export interface NextOptions {
  /** Only frames at this index or later. @default 0 */
  from?: number;
  timeout: number;
  /** What the timeout error says (computed when it happens). */
  hint: string | (() => string);
  /** Take the frame: no other claiming wait gets it. @default false */
  claim?: boolean;
}

export class Inbox {
  readonly frames: ServerFrame[] = [];
  readonly #claimed = new Set<number>();
  readonly #waiters = new Set<Waiter>();

  push(frame: ServerFrame): void {
    const index = this.frames.push(frame) - 1;
    // Sets iterate in insertion order: the wait that began first gets the frame first.
    for (const waiter of this.#waiters) {
      if (index < waiter.from || (waiter.claim && this.#claimed.has(index)) || !waiter.match(frame)) continue;
      if (waiter.claim) this.#claimed.add(index);
      this.#waiters.delete(waiter);
      waiter.resolve(index);
    }
  }

  /** The index of the first frame that matches, once it has arrived; a {@link TestTimeoutError} after `timeout` ms. */
  next(
    match: (frame: ServerFrame) => boolean,
    { from = 0, timeout, hint, claim = false }: NextOptions,
  ): Promise<number> {
    for (let i = from; i < this.frames.length; i++) {
      if (claim && this.#claimed.has(i)) continue;
      if (!match(this.frames[i]!)) continue;
      if (claim) this.#claimed.add(i);
      return Promise.resolve(i);
    }
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new TestTimeoutError(`${typeof hint === 'function' ? hint() : hint} (waited ${timeout} ms)`));
      }, timeout);
      timer.unref();
      const waiter: Waiter = {
        from,
        claim,
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
