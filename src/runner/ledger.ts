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
  /**
   * The claimed ids in two generations: the newest (up to `size`) and the one before it, dropped
   * whole when the newest fills. The window remembers the last `size` to `2 × size` ids.
   */
  readonly #ids: IdWindow;
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
    this.#ids = new IdWindow(options.size);
    this.#markRead = options.markRead;
    this.#logger = options.logger;
    this.#interval = options.ackInterval ?? 5_000;
    this.#concurrency = options.ackConcurrency ?? 8;
  }

  claim(id: string): boolean {
    return this.#ids.claim(id);
  }

  release(id: string): void {
    this.#ids.release(id);
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

/**
 * The ids claimed lately, in two generations of open-addressing tables: a 32-bit hash of each id in
 * a typed array, the id beside it for the exact comparison when hashes match. A lookup reads a slot
 * or two of an `Int32Array` and touches a stored id only when its hash matches: two `Set`s of
 * 10,000–20,000 strings cost ~1.5 µs per claim in the runner (their probes read stored strings
 * scattered over the old generation), a tenth of its CPU per reply (docs/benchmarks.md, section 0d;
 * `bench/micro/dedupe-fifo.js`). When the newest generation holds `size` ids, the older one is
 * cleared and becomes the newest.
 */
class IdWindow {
  readonly #size: number;
  /** Slots of a full generation: a power of two at least twice `size` (at most half full). */
  readonly #capacity: number;
  #current: IdTable;
  #previous: IdTable | undefined;

  constructor(size: number) {
    this.#size = Math.max(1, size);
    this.#capacity = 2 ** Math.ceil(Math.log2(Math.max(16, this.#size * 2)));
    // Small at first, grown to the full size as ids come: an idle runner keeps little.
    this.#current = new IdTable(Math.min(this.#capacity, 1024));
  }

  claim(id: string): boolean {
    const tag = hashTag(id);
    if (this.#current.find(id, tag) >= 0) return false;
    if (this.#previous !== undefined && this.#previous.find(id, tag) >= 0) return false;
    if (this.#current.count >= this.#size) {
      const reused = this.#previous?.slots === this.#capacity ? this.#previous : undefined;
      reused?.clear();
      this.#previous = this.#current;
      this.#current = reused ?? new IdTable(this.#capacity);
    } else if (this.#current.used * 2 >= this.#current.slots) {
      // Grown (or, at full size, rebuilt without its released slots): a lookup always meets an empty slot.
      this.#current = this.#current.grown(Math.min(this.#capacity, this.#current.slots * 2));
    }
    this.#current.add(id, tag);
    return true;
  }

  release(id: string): void {
    const tag = hashTag(id);
    this.#current.remove(id, tag);
    this.#previous?.remove(id, tag);
  }
}

/** A slot never used: a lookup stops there. */
const EMPTY = 0;
/** A slot whose id was released: a lookup goes on past it, an insert may reuse it. */
const RELEASED = 1;

/** A hash of `id` that is never {@link EMPTY} or {@link RELEASED} (bit 1 set): FNV-1a, then mixed. */
function hashTag(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h | 2;
}

/** One generation: linear probing over a power-of-two number of slots, at most half of them used. */
class IdTable {
  readonly slots: number;
  /** Ids held. */
  count = 0;
  /** Slots not empty: ids held and released ones. */
  used = 0;
  readonly #mask: number;
  readonly #tags: Int32Array;
  readonly #ids: (string | undefined)[];

  constructor(slots: number) {
    this.slots = slots;
    this.#mask = slots - 1;
    this.#tags = new Int32Array(slots);
    this.#ids = new Array<string | undefined>(slots).fill(undefined);
  }

  /** The slot holding `id`, or -1. */
  find(id: string, tag: number): number {
    const tags = this.#tags;
    for (let i = tag & this.#mask; ; i = (i + 1) & this.#mask) {
      const t = tags[i]!;
      if (t === EMPTY) return -1;
      if (t === tag && this.#ids[i] === id) return i;
    }
  }

  /** Adds an id known not to be here (at most half the slots are used: a free one is near). */
  add(id: string, tag: number): void {
    const tags = this.#tags;
    let i = tag & this.#mask;
    while ((tags[i]! & 2) !== 0) i = (i + 1) & this.#mask;
    if (tags[i] === EMPTY) this.used++;
    tags[i] = tag;
    this.#ids[i] = id;
    this.count++;
  }

  remove(id: string, tag: number): void {
    const slot = this.find(id, tag);
    if (slot < 0) return;
    this.#tags[slot] = RELEASED;
    this.#ids[slot] = undefined;
    this.count--;
  }

  clear(): void {
    this.#tags.fill(EMPTY);
    this.#ids.fill(undefined);
    this.count = 0;
    this.used = 0;
  }

  /** A copy with `slots` slots (released slots left behind). */
  grown(slots: number): IdTable {
    const next = new IdTable(slots);
    for (let i = 0; i < this.slots; i++) {
      const tag = this.#tags[i]!;
      if ((tag & 2) !== 0) next.add(this.#ids[i]!, tag);
    }
    return next;
  }
}
