/**
 * Frames on their way out: the ordered, bounded queue they wait in while the socket is down, and
 * the small window of recently written message frames that a platform refusal (`RATE_LIMITED`,
 * `VALIDATION_ERROR`…) can still name by `messageId`.
 */
import { C4cError } from '../errors.js';
import type { ClientFrame } from '../protocol/frames.js';

/** One frame to send, with the caller's promise until a socket took it. */
export interface OutboxEntry {
  /** Order of the first `send()`: a re-queued frame goes back where it was, not to the end. */
  readonly seq: number;
  readonly frame: ClientFrame;
  /** The frame as JSON, serialised once. */
  readonly data: string;
  /** `RATE_LIMITED` refusals so far. */
  retries: number;
  /** Whether the caller waits for the write only, or for the platform's proof it handled the frame. */
  readonly until: 'written' | 'confirmed';
  /** Index of the latest write of this frame to a socket (0: never written). */
  written: number;
  /** Whether `settle.written` was called (a frame written again after a drop is not announced again). */
  announced: boolean;
  /** Present until the caller is told how the send ended. */
  settle?: Settle | undefined;
}

/**
 * Who waits for a frame: told once how its send ended, and (for a confirmed send) when a socket
 * first took it. `Connection.send` makes one of a promise; the runner passes its own object, so a
 * reply costs no promise and no closures here (docs/benchmarks.md, section 0d).
 */
export interface Settle {
  /** Written (`until: 'written'`) or proven handled (`'confirmed'`). */
  resolve(frame: ClientFrame): void;
  /** Not sent: refused for good, too large, the outbox full, or the connection ended. */
  reject(error: Error): void;
  /** For a confirmed send: the first time a socket took the frame; the proof is still to come. */
  written?(): void;
}

/** Settles an entry's caller at most once. */
export function resolveEntry(entry: OutboxEntry): void {
  const settle = entry.settle;
  entry.settle = undefined;
  settle?.resolve(entry.frame);
}

/** Rejects an entry's caller at most once. */
export function rejectEntry(entry: OutboxEntry, error: Error): void {
  const settle = entry.settle;
  entry.settle = undefined;
  settle?.reject(error);
}

/** The outbox's defaults (the config's `outbox` key refers to them). */
export const OUTBOX_DEFAULTS = Object.freeze({
  /** Frames allowed to wait while the socket is down. */
  limit: 10_000,
});

/**
 * Frames waiting for a socket, in `send()` order (ascending `seq`), at most `limit` of them. A head
 * index instead of `Array#shift` keeps draining 10,000 frames linear.
 */
export class Outbox {
  #entries: OutboxEntry[] = [];
  #head = 0;

  /** @param limit largest number of waiting frames; `send()` beyond it is refused. */
  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new C4cError('E_CONFIG', `outbox.limit must be a whole number > 0, got ${String(limit)}`);
    }
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Adds a new frame at the end; throws `E_BACKLOG` when full, so memory stays bounded. */
  push(entry: OutboxEntry): void {
    if (this.size >= this.limit) {
      throw new C4cError(
        'E_BACKLOG',
        `outbox full: ${this.limit} frames are already waiting for the connection to the platform; slow down or raise outbox.limit`,
        { details: { limit: this.limit } },
      );
    }
    this.#entries.push(entry);
  }

  /**
   * Puts back frames that were accepted once (dropped with their socket, or refused for a rate
   * limit), each in its original place. Never refused: losing an accepted frame is worse than going
   * over the limit.
   */
  requeue(back: OutboxEntry[]): void {
    if (back.length === 0) return;
    back = [...back].sort((a, b) => a.seq - b.seq);
    const waiting = this.#entries.slice(this.#head);
    const merged: OutboxEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < back.length || j < waiting.length) {
      if (j >= waiting.length || (i < back.length && back[i]!.seq < waiting[j]!.seq)) merged.push(back[i++]!);
      else merged.push(waiting[j++]!);
    }
    this.#entries = merged;
    this.#head = 0;
  }

  /** Takes the oldest frame. */
  shift(): OutboxEntry | undefined {
    if (this.#head >= this.#entries.length) return undefined;
    const entry = this.#entries[this.#head]!;
    this.#entries[this.#head] = undefined as unknown as OutboxEntry; // let it be collected
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }

  /** Empties the outbox and returns what was in it, oldest first. */
  takeAll(): OutboxEntry[] {
    const all = this.#entries.slice(this.#head);
    this.#entries = [];
    this.#head = 0;
    return all;
  }
}

/**
 * The last `size` to `2 × size` message frames written, by `messageId`, in two generations: the
 * newest map fills up to `size`, then becomes the older one and the oldest is dropped whole. No
 * delete per write: a ring with a map to each slot cost a `delete` and V8's hole-and-rehash work
 * for every frame (bench/micro/dedupe-fifo.js).
 */
export class RecentWindow {
  #current = new Map<string, OutboxEntry>();
  #previous = new Map<string, OutboxEntry>();
  readonly #size: number;

  constructor(size = 256) {
    this.#size = size;
  }

  add(entry: OutboxEntry): void {
    const id = messageIdOf(entry.frame);
    if (id === undefined) return;
    if (this.#current.size >= this.#size) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    // Written again (after a reconnect), it may sit in both: `take` looks at the newest first.
    this.#current.set(id, entry);
  }

  /** Removes and returns the entry a refusal names, if it is still in the window. */
  take(messageId: string): OutboxEntry | undefined {
    const entry = this.#current.get(messageId) ?? this.#previous.get(messageId);
    this.#current.delete(messageId);
    this.#previous.delete(messageId);
    return entry;
  }

  clear(): void {
    this.#current.clear();
    this.#previous.clear();
  }
}

/** The `messageId` of a message frame (the only kind a refusal can name and a retry can fix). */
export function messageIdOf(frame: ClientFrame): string | undefined {
  return frame.type === 'message' ? frame.messageId : undefined;
}
