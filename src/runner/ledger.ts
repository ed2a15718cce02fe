/**
 * The ledger remembers what was handled and acknowledges it. Dedupe: a bounded LRU of message
 * ids, so a redelivered or caught-up event runs once. Acknowledgement: the platform's read cursor
 * (`POST …/messages/read`), moved after a message's reply was sent, so a crash before the ack
 * means the message is handled again after a restart (at-least-once, deduplicated).
 *
 * An interface, so a durable or shared ledger (a file, Redis) can replace the in-memory one.
 */
import type { Logger } from '../log.js';

/** Dedupe and acknowledgement, behind an interface so a durable or shared backend can replace it. */
export interface Ledger {
  /** Claims an event id: `true` the first time, `false` for one already claimed (a duplicate). */
  claim(id: string): boolean;
  /** Forgets a claim, for an event refused before it ran, so a redelivery runs it. */
  release(id: string): void;
  /** Acknowledges a handled message. Never throws; failures are logged. */
  acknowledge(employmentId: number, messageId: string): void;
  /** Resolves when every acknowledgement in flight has settled. */
  flush(): Promise<void>;
}

/** Settings of a {@link MemoryLedger}. */
export interface MemoryLedgerOptions {
  /** Ids remembered; the oldest is forgotten beyond it. */
  size: number;
  /** Moves the read cursor of an employment; `undefined` turns acknowledgements off. */
  markRead?: (employmentId: number, lastReadMessageId: string) => Promise<unknown>;
  logger: Logger;
}

/** In-memory ledger: an LRU of ids and a coalescing acknowledger (one request in flight per employment). */
export class MemoryLedger implements Ledger {
  readonly #size: number;
  readonly #seen = new Map<string, true>();
  readonly #markRead: MemoryLedgerOptions['markRead'];
  readonly #logger: Logger;
  /** Per employment: the request in flight, and the newest id waiting to follow it. */
  readonly #acks = new Map<number, { inFlight: Promise<void>; next: string | undefined }>();

  constructor(options: MemoryLedgerOptions) {
    this.#size = options.size;
    this.#markRead = options.markRead;
    this.#logger = options.logger;
  }

  claim(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, true);
    if (this.#seen.size > this.#size) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }

  release(id: string): void {
    this.#seen.delete(id);
  }

  acknowledge(employmentId: number, messageId: string): void {
    if (!this.#markRead) return;
    const pending = this.#acks.get(employmentId);
    // The read cursor covers every earlier message: while one request is in flight, only the
    // newest id needs to follow it.
    if (pending) {
      pending.next = messageId;
      return;
    }
    this.#send(employmentId, messageId);
  }

  async flush(): Promise<void> {
    while (this.#acks.size > 0) await Promise.allSettled([...this.#acks.values()].map((a) => a.inFlight));
  }

  #send(employmentId: number, messageId: string): void {
    const markRead = this.#markRead!;
    const state: { inFlight: Promise<void>; next: string | undefined } = { inFlight: Promise.resolve(), next: undefined };
    state.inFlight = markRead(employmentId, messageId)
      .then(
        () => this.#logger.debug({ employmentId, messageId }, 'acknowledged'),
        (error: unknown) => this.#logger.warn({ err: error, employmentId, messageId }, 'could not mark the message read; it may be handled again after a restart'),
      )
      .finally(() => {
        this.#acks.delete(employmentId);
        if (state.next !== undefined) this.#send(employmentId, state.next);
      });
    this.#acks.set(employmentId, state);
  }
}
