/**
 * The ledger remembers what was handled and acknowledges it. Dedupe: a bounded LRU of message
 * ids, so a redelivered or caught-up event runs once. Acknowledgement: the platform's read cursor
 * (`POST …/messages/read`), moved after a message's reply was sent, so a crash before the ack
 * means the message is handled again after a restart (at-least-once, deduplicated).
 *
 * An interface, so a durable or shared ledger (a file, Redis) can replace the in-memory one.
 */
import type { Logger } from '../log.js';
import { idKey, type Id } from '../protocol/ids.js';

/** Dedupe and acknowledgement, behind an interface so a durable or shared backend can replace it. */
export interface Ledger {
  /** Claims an event id: `true` the first time, `false` for one already claimed (a duplicate). */
  claim(id: string): boolean;
  /** Forgets a claim, for an event refused before it ran, so a redelivery runs it. */
  release(id: string): void;
  /** Acknowledges a handled message. Never throws; failures are logged. */
  acknowledge(employmentId: Id, messageId: string): void;
  /** Resolves when every acknowledgement in flight has settled. */
  flush(): Promise<void>;
}

/** Settings of a {@link MemoryLedger}. */
export interface MemoryLedgerOptions {
  /** Ids remembered at least (up to twice as many); older ones are forgotten. */
  size: number;
  /** Moves the read cursor of an employment; `undefined` turns acknowledgements off. */
  markRead?: (employmentId: Id, lastReadMessageId: string) => Promise<unknown>;
  /**
   * Least time between two acknowledgements of one employment, in ms. The first message of a quiet
   * employment is acknowledged at once; while it stays busy, its cursor moves at most once per
   * interval, to the newest handled id. One REST call per handled message cost ~20× the message
   * itself (docs/benchmarks.md); the price is that a crash may re-handle up to this much of a busy
   * conversation (at-least-once either way). @default 5000 (Kafka's auto-commit interval)
   */
  ackInterval?: number;
  /** Acknowledgement requests in flight at once, over all employments. @default 8 */
  ackConcurrency?: number;
  logger: Logger;
}

/** One employment's acknowledgement: the request in flight, the newest id waiting, the pacing timer. */
interface AckState {
  /** The employment, in the form it came in (it is sent back that way). */
  employmentId: Id;
  inFlight: Promise<void> | undefined;
  next: string | undefined;
  lastSent: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * In-memory ledger: an LRU of ids and a coalescing acknowledger — per employment one request in
 * flight and at most one per `ackInterval`, skipping to the newest id; `ackConcurrency` requests
 * at most over all employments.
 */
export class MemoryLedger implements Ledger {
  readonly #size: number;
  /**
   * The claimed ids in two generations: the newest (up to `size`) and the one before it, dropped
   * whole when the newest fills. Nothing is deleted per claim (a ring of ids with a `Map` to their
   * slots deleted the oldest on every claim); with ledger-shaped keys both cost ~1 µs per claim,
   * most of it building and hashing the key (bench/micro/dedupe-fifo.js). The window remembers
   * the last `size` to `2 × size` ids.
   */
  #current = new Set<string>();
  #previous = new Set<string>();
  readonly #markRead: MemoryLedgerOptions['markRead'];
  readonly #logger: Logger;
  readonly #interval: number;
  readonly #concurrency: number;
  /** By the employment's canonical id (ids.ts), so `42` and `"42"` share one cursor. */
  readonly #acks = new Map<string, AckState>();
  /** Employments whose acknowledgement is due but waits for a free request slot, in order. */
  readonly #ready = new Set<string>();
  #active = 0;
  #flushing = false;

  constructor(options: MemoryLedgerOptions) {
    this.#size = options.size;
    this.#markRead = options.markRead;
    this.#logger = options.logger;
    this.#interval = options.ackInterval ?? 5_000;
    this.#concurrency = options.ackConcurrency ?? 8;
  }

  claim(id: string): boolean {
    if (this.#current.has(id) || this.#previous.has(id)) return false;
    if (this.#current.size >= this.#size) {
      this.#previous = this.#current;
      this.#current = new Set();
    }
    this.#current.add(id);
    return true;
  }

  release(id: string): void {
    this.#current.delete(id);
    this.#previous.delete(id);
  }

  acknowledge(employmentId: Id, messageId: string): void {
    if (!this.#markRead) return;
    const key = idKey(employmentId);
    const state = this.#acks.get(key);
    // The read cursor covers every earlier message: while one request is in flight or the
    // employment was acknowledged less than an interval ago, only the newest id needs to follow.
    if (state) {
      state.next = messageId;
      return;
    }
    const fresh: AckState = {
      employmentId,
      inFlight: undefined,
      next: messageId,
      lastSent: 0,
      timer: undefined,
    };
    this.#acks.set(key, fresh);
    this.#due(key);
  }

  async flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#acks.size > 0) {
        for (const [key, state] of this.#acks) {
          if (state.timer) {
            clearTimeout(state.timer);
            state.timer = undefined;
            this.#due(key);
          }
        }
        const inFlight = [...this.#acks.values()].flatMap((a) => (a.inFlight ? [a.inFlight] : []));
        if (inFlight.length === 0) break; // nothing can settle any more (no markRead, or all idle)
        await Promise.allSettled(inFlight);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** The employment may send now: it does if a slot is free, else it queues for one. */
  #due(key: string): void {
    const state = this.#acks.get(key);
    if (!state) return;
    if (state.next === undefined) {
      this.#acks.delete(key);
      return;
    }
    if (this.#active >= this.#concurrency) {
      this.#ready.add(key);
      return;
    }
    this.#send(key, state);
  }

  #send(key: string, state: AckState): void {
    const { employmentId } = state;
    const markRead = this.#markRead!;
    const messageId = state.next!;
    state.next = undefined;
    state.lastSent = Date.now();
    this.#active++;
    state.inFlight = markRead(employmentId, messageId)
      .then(
        () => this.#logger.debug({ employmentId, messageId }, 'acknowledged'),
        (error: unknown) =>
          this.#logger.warn(
            { err: error, employmentId, messageId },
            'could not mark the message read; it may be handled again after a restart',
          ),
      )
      .finally(() => {
        this.#active--;
        state.inFlight = undefined;
        this.#paced(key, state);
        const waiting = this.#ready.values().next();
        if (!waiting.done) {
          this.#ready.delete(waiting.value);
          this.#due(waiting.value);
        }
      });
  }

  /** After a request: the next one of this employment waits out the interval (not when flushing). */
  #paced(key: string, state: AckState): void {
    const wait = this.#flushing ? 0 : state.lastSent + this.#interval - Date.now();
    if (wait <= 0) {
      this.#due(key);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.#due(key);
    }, wait);
    state.timer.unref();
  }
}
