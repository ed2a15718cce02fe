/**
 * Frames on their way out: the ordered, bounded queue they wait in while the socket is down, and
 * the small window of recently written message frames that a platform refusal (`RATE_LIMITED`,
 * `EMPLOYMENT_NOT_ACTIVE`) can still name by `messageId`.
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
  /** Present until the caller's `send()` promise is settled. */
  settle?: { resolve: (frame: ClientFrame) => void; reject: (error: Error) => void } | undefined;
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

/** Frames waiting for a socket, in `send()` order, at most `limit` of them. */
export class Outbox {
  private readonly entries: OutboxEntry[] = [];

  /** @param limit largest number of waiting frames; `send()` beyond it is refused. */
  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new C4cError('E_CONFIG', `outbox.limit must be a whole number > 0, got ${String(limit)}`);
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Adds a new frame at the end; throws `E_BACKLOG` when full, so memory stays bounded. */
  push(entry: OutboxEntry): void {
    if (this.entries.length >= this.limit) {
      throw new C4cError(
        'E_BACKLOG',
        `outbox full: ${this.limit} frames are already waiting for the connection to the platform; slow down or raise outbox.limit`,
        { details: { limit: this.limit } },
      );
    }
    this.entries.push(entry);
  }

  /**
   * Puts back a frame that was already accepted once (dropped with its socket, or refused for a rate
   * limit), in its original place. Never refused: losing an accepted frame is worse than one over the limit.
   */
  requeue(entry: OutboxEntry): void {
    let index = this.entries.length;
    while (index > 0 && this.entries[index - 1]!.seq > entry.seq) index -= 1;
    this.entries.splice(index, 0, entry);
  }

  /** Takes the oldest frame. */
  shift(): OutboxEntry | undefined {
    return this.entries.shift();
  }

  /** Empties the outbox and returns what was in it, oldest first. */
  takeAll(): OutboxEntry[] {
    return this.entries.splice(0, this.entries.length);
  }
}

/** The last `size` message frames written, by `messageId`, oldest evicted first. */
export class RecentWindow {
  private readonly byId = new Map<string, OutboxEntry>();

  constructor(private readonly size = 256) {}

  add(entry: OutboxEntry): void {
    const id = messageIdOf(entry.frame);
    if (id === undefined) return;
    this.byId.delete(id);
    this.byId.set(id, entry);
    if (this.byId.size > this.size) {
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
  }

  /** Removes and returns the entry a refusal names, if it is still in the window. */
  take(messageId: string): OutboxEntry | undefined {
    const entry = this.byId.get(messageId);
    this.byId.delete(messageId);
    return entry;
  }

  clear(): void {
    this.byId.clear();
  }
}

/** The `messageId` of a message frame (the only kind a refusal can name and a retry can fix). */
export function messageIdOf(frame: ClientFrame): string | undefined {
  return frame.type === 'message' ? frame.messageId : undefined;
}
