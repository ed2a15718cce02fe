/**
 * Frames out, from `send()` until the platform has surely processed them.
 *
 * A frame's life: waiting (outbox) → in flight (handed to the socket, write not called back) →
 * unconfirmed (written) → confirmed (a pong to a ping sent after it came back; the platform handles
 * a socket's frames in order, so it has handled this one). A socket that drops takes nothing with it:
 * in-flight and unconfirmed frames go back to the outbox in their original order and are sent again
 * on the next socket with the same `messageId` (the platform drops repeats; see docs/protocol.md). Without
 * this, every reply written into a half-open connection — up to the pong timeout's worth — would
 * vanish while its `send()` had already resolved.
 */
import type { Socket } from 'node:net';
import process from 'node:process';
import type WebSocket from 'ws';
import { PlatformError } from '../errors.js';
import type { Logger } from '../log.js';
import { classifyError, type ClientFrame, type ErrorFrame } from '../protocol/frames.js';
import {
  Outbox,
  RecentWindow,
  messageIdOf,
  rejectEntry,
  resolveEntry,
  type OutboxEntry,
  type Settle,
} from './outbox.js';

/** Settings of a {@link Delivery}. */
export interface DeliveryOptions {
  /** Frames allowed to wait. */
  limit: number;
  /**
   * `RATE_LIMITED` refusals of one frame retried before it is reported undeliverable (passing
   * refusals: at most {@link PASSING_RETRIES} of them).
   */
  maxRetries: number;
  /** Pause before sending again after the n-th refusal of a frame, in ms. */
  retryDelay: (retries: number) => number;
  log: Logger;
  /** A frame the platform refused for good (its `send()` rejects; see {@link isUndeliverable}). */
  onUndeliverable: (info: { frame: ClientFrame; code: string; message: string }) => void;
  /**
   * An acknowledgement ping without its pong is sent again after this many ms: a platform may
   * answer only the latest of several pings (RFC 6455), or lose one. @default 1000
   */
  reprobeAfter?: number;
  /** Written frames left unconfirmed this long (no matching pong): the socket is replaced. @default 60000 */
  confirmTimeout?: number;
  /** No confirmation within `confirmTimeout`: the connection replaces the socket (as the heartbeat does). */
  onStalled?: (waitedMs: number) => void;
}

/**
 * What a refusal that names one of our frames means for it:
 * - `rate-limited`: `RATE_LIMITED` — sent again after a backoff, up to `maxRetries` times (the
 *   runner waits it out without a bound);
 * - `passing`: the platform failed, not the frame (`INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`, a
 *   timeout) — sent again after a backoff, at most {@link PASSING_RETRIES} times, then for good;
 * - `for-good`: the frame itself is refused and would be refused again, unchanged
 *   (`VALIDATION_ERROR`, `INVALID_FRAME`, `EMPLOYMENT_NOT_ACTIVE`, `NOT_FOUND`, `FORBIDDEN`,
 *   `UNAUTHORIZED`, and any code this project does not know): reported undeliverable at once.
 */
export type Refusal = 'rate-limited' | 'passing' | 'for-good';

/** Passing refusals (`INTERNAL_ERROR`…) of one frame sent again before it counts as refused for good. */
export const PASSING_RETRIES = 5;

/** Sorts a refusal that names one of our frames (see {@link Refusal}); by code, else by its text. */
export function refusalOf(frame: { code?: string; message?: string }): Refusal {
  if (classifyError(frame) === 'RATE_LIMITED') return 'rate-limited';
  // The code alone: a validation message may well say "internal" or "timeout" about a field.
  if (/internal|unavailable|timeout|timed.?out|overloaded|try.?again|^5\d\d$/i.test(frame.code ?? ''))
    return 'passing';
  return 'for-good';
}

/**
 * Whether `error` is a send's rejection because the platform refused its frame for good: the frame
 * was not stored, and sending it again unchanged would be refused again.
 */
export function isUndeliverable(error: unknown): error is PlatformError {
  return error instanceof PlatformError && error.details?.undeliverable === true;
}

/** How far a `send()` waits. */
export type SendUntil = 'written' | 'confirmed';

const ACK = 'ack-';
const PROBE = 'probe-';

/**
 * Frames let out of the cork together: the first CORK_FIRST of a tick, then twice as many each time,
 * up to CORK_BATCH. The first replies reach the platform early, so it works while the runner writes
 * the rest; a burst costs a syscall per batch, not per frame. Measured against the null platform on
 * 2 cores (docs/benchmarks.md, section 0d; replies/s): all of a tick's frames in one write, 45k at 16
 * in flight (the platform idled until the end of the tick); one write per frame, 54k at 16 and
 * 66k at 256; batches of 4, 66–73k and 96–108k; batches of 2 doubling to 16, 70–71k and 106–117k.
 */
const CORK_FIRST = 2;
const CORK_BATCH = 16;

/**
 * Acknowledgement pings allowed to wait for their pong at once. The first batch a tick lets out of
 * the cork carries one, and the end of the tick another: the replies of the first batch are proven
 * as soon as the platform has handled them, so their conversations go on without waiting for the
 * rest of the tick's writes and the round trip of its last batch (the runner idled once per burst;
 * docs/benchmarks.md, section 0f). The bound keeps the pongs the platform owes us few: a `ws`
 * server (8.18+) drops a peer with 60 of its pongs waiting to be written.
 */
const MAX_ACKS = 4;

/** The outbox, the frames on the wire, and the proof that they arrived. */
export class Delivery {
  readonly #outbox: Outbox;
  readonly #recent = new RecentWindow();
  /**
   * The frames handed to the current socket and not yet proven, in write order: from `#head` to
   * `#called` their write was called back (unconfirmed), from `#called` to the end it was not (in
   * flight). Write callbacks come in write order, so one callback per socket takes the next entry,
   * and a pong confirms a prefix: no closure and no map insert and delete per frame (they were a
   * visible share of the allocation per reply; docs/benchmarks.md, section 0e). A refused
   * unconfirmed entry leaves a hole (`undefined`).
   */
  #sent: (OutboxEntry | undefined)[] = [];
  #head = 0;
  #called = 0;
  /** Entries between `#head` and `#called` that are not holes. */
  #unconfirmedCount = 0;
  /** The current socket's write callback (made once per socket). */
  #onWritten: ((error?: Error | null) => void) | undefined;
  readonly #drainWaiters = new Set<(drained: boolean) => void>();
  #socket: WebSocket | undefined;
  /** The TCP socket under `#socket`, when known. */
  #tcp: Socket | undefined;
  /** Whether `#tcp` is corked until the end of the tick. */
  #corked = false;
  /** Frames written into the current cork since it was last let out. */
  #batched = 0;
  /** Frames let out of the cork together next: doubles within a tick, up to CORK_BATCH. */
  #batchLimit = CORK_FIRST;
  #pauseTimer: NodeJS.Timeout | undefined;
  /** Payload of the ping after a retried frame; nothing else is written until its pong. */
  #probe: string | undefined;
  /** Write indexes covered by the acknowledgement pings still waiting for a pong, oldest first. */
  #acks: number[] = [];
  /** An acknowledgement ping is due at the end of this turn of the event loop (`#requestAckSoon`). */
  #ackSoon = false;
  /**
   * One timer for the acknowledgement's two deadlines (ask again after `reprobeAfter`, give the
   * socket up after `confirmTimeout`), checked when it fires rather than set and cleared per ping:
   * two timers re-armed for every ping were a visible cost per reply when each reply had its own.
   */
  #ackTimer: NodeJS.Timeout | undefined;
  /**
   * Since when the platform owes a pong without having answered any (`Date.now()`): when the first
   * of the waiting pings was sent, or the last pong that answered one. Past `reprobeAfter`, ask again.
   */
  #ackSentAt = 0;
  /** Since when written frames wait without any proof coming back: the stall clock. */
  #unprovenSince: number | undefined;
  #seq = 0;
  #writes = 0;
  #ended = false;
  readonly counters = { framesOut: 0, requeued: 0, confirmed: 0 };

  readonly #options: DeliveryOptions;

  constructor(options: DeliveryOptions) {
    this.#options = options;
    this.#outbox = new Outbox(options.limit);
  }

  get stats(): { queued: number; inflight: number; unconfirmed: number } {
    return {
      queued: this.#outbox.size,
      inflight: this.#sent.length - this.#called,
      unconfirmed: this.#unconfirmedCount,
    };
  }

  /** Takes a frame; `settle` hears how it ends (`E_BACKLOG` at once when the outbox is full). */
  enqueue(frame: ClientFrame, data: string, until: SendUntil, settle: Settle): void {
    const entry: OutboxEntry = {
      seq: ++this.#seq,
      frame,
      data,
      retries: 0,
      until,
      written: 0,
      announced: false,
      settle,
    };
    if (this.#outbox.size === 0 && this.#writable()) {
      this.#write(entry);
      return;
    }
    try {
      this.#outbox.push(entry);
    } catch (error) {
      rejectEntry(entry, error as Error);
    }
  }

  /**
   * A socket opened: what waited goes out first, in order. `tcp` is the connection under it: the
   * frames written in one tick are corked into one write (see `#write`).
   */
  attach(socket: WebSocket, tcp?: Socket): void {
    this.#socket = socket;
    this.#tcp = tcp;
    this.#onWritten = (error) => this.#written(socket, error);
    this.#flushOutbox();
  }

  /** The socket is gone: everything it did not prove delivered goes back, in order. */
  detach(): void {
    this.#socket = undefined;
    this.#tcp = undefined;
    this.#onWritten = undefined;
    this.#probe = undefined;
    this.#acks = [];
    this.#clearAckTimers();
    const back: OutboxEntry[] = [];
    for (let i = this.#head; i < this.#sent.length; i++) {
      const entry = this.#sent[i];
      if (entry) back.push(entry);
    }
    this.#sent = [];
    this.#head = this.#called = this.#unconfirmedCount = 0;
    this.#requeue(back);
  }

  /** A control pong on the current socket. */
  onPong(data: Buffer): void {
    const payload = data.toString();
    if (payload.startsWith(ACK) && this.#acks.length > 0) {
      // Any of our acknowledgement pongs proves what was written before its ping: one lost or
      // skipped (a platform may answer only the latest ping) must not stall the ones after it.
      const upTo = Number(payload.slice(ACK.length));
      if (!Number.isInteger(upTo) || upTo > this.#writes) return;
      this.#confirm(upTo);
      const acks = this.#acks;
      let answered = 0;
      while (answered < acks.length && acks[answered]! <= upTo) answered++;
      if (answered === 0) return; // a pong from before a re-probe: it proved what it could
      if (answered === acks.length) {
        // Everything asked about is proven: the timer, when it fires, finds nothing pending.
        acks.length = 0;
        this.#unprovenSince = undefined;
      } else {
        acks.splice(0, answered);
        this.#ackSentAt = this.#unprovenSince = Date.now();
      }
      // Frames written since the newest ping (or whose write was not called back before its pong).
      if (this.#pending() && (acks.length === 0 || acks[acks.length - 1]! < this.#writes))
        this.#requestAckSoon();
    } else if (payload === this.#probe) {
      this.#probe = undefined;
      this.#confirm(this.#writes);
      this.#flushOutbox();
    }
  }

  /**
   * An error frame: a refusal that names one of our frames is retried (a passing refusal) or
   * reported undeliverable (a refusal for good); see {@link refusalOf}.
   */
  onError(frame: ErrorFrame): void {
    const details = frame.details as { messageId?: unknown } | undefined;
    const messageId = typeof details?.messageId === 'string' ? details.messageId : undefined;
    if (messageId === undefined) return;
    const entry = this.#take(messageId);
    if (!entry) return;
    const refusal = refusalOf(frame);
    const bound =
      refusal === 'rate-limited'
        ? this.#options.maxRetries
        : Math.min(this.#options.maxRetries, PASSING_RETRIES);
    if (refusal !== 'for-good' && entry.retries < bound) {
      entry.retries += 1;
      this.#requeue([entry]);
      this.#pause(entry.retries, frame.code);
      return;
    }
    rejectEntry(
      entry,
      new PlatformError(
        0,
        frame.code,
        `the platform refused message ${messageId} for good (${frame.code}): ${frame.message}`,
        { details: { messageId, undeliverable: true } },
      ),
    );
    this.#options.onUndeliverable({ frame: entry.frame, code: frame.code, message: frame.message });
    this.#checkDrained();
  }

  /**
   * Resolves `true` once nothing waits, is in flight or is unconfirmed; `false` after `timeoutMs`
   * or when the connection ends first.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.#drained()) return Promise.resolve(true);
    if (this.#ended) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (drained: boolean): void => {
        clearTimeout(timer);
        this.#drainWaiters.delete(done);
        resolve(drained);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.#drainWaiters.add(done);
    });
  }

  /** The connection ended: every frame not yet settled rejects with `error`; timers released. */
  end(error: Error): void {
    this.#ended = true;
    this.#clearAckTimers();
    clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    this.detach();
    for (const entry of this.#outbox.takeAll()) rejectEntry(entry, error);
    this.#recent.clear();
    for (const waiter of [...this.#drainWaiters]) waiter(false);
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  #writable(): boolean {
    return (
      !this.#ended &&
      this.#socket !== undefined &&
      this.#pauseTimer === undefined &&
      this.#probe === undefined
    );
  }

  #flushOutbox(): void {
    while (this.#writable()) {
      const entry = this.#outbox.shift();
      if (!entry) break;
      this.#write(entry);
    }
    this.#checkDrained();
  }

  #write(entry: OutboxEntry): void {
    const socket = this.#socket!;
    const tcp = this.#tcp;
    if (tcp && !this.#corked) {
      // The frames written in this tick leave in growing batches (CORK_FIRST, then doubling up to
      // CORK_BATCH): the replies to a burst of messages cost a syscall per batch, not one each (a
      // write per reply was a fifth of the runner's CPU per reply on loopback), while the platform
      // already works on the first ones. ws corks each frame too; the counts nest.
      this.#corked = true;
      this.#batched = 0;
      this.#batchLimit = CORK_FIRST;
      tcp.cork();
      process.nextTick(() => {
        this.#corked = false;
        // The delivery ping goes in the same write as the frames it covers: one syscall (and one
        // wake-up of the platform) per burst instead of two. Its pong may in theory overtake a write
        // callback; a frame still in flight then is simply confirmed by the next ping.
        if (socket === this.#socket) this.#requestAck();
        tcp.uncork();
      });
    }
    entry.written = ++this.#writes;
    this.#sent.push(entry);
    socket.send(entry.data, this.#onWritten);
    if (tcp && this.#corked && ++this.#batched >= this.#batchLimit) {
      // The tick's first batch carries its own delivery ping (see MAX_ACKS); the tick's end one
      // covers the rest. A ping with every batch gained less and cost more (section 0f).
      if (this.#batchLimit === CORK_FIRST) this.#requestAck();
      this.#batched = 0;
      this.#batchLimit = Math.min(this.#batchLimit * 2, CORK_BATCH);
      tcp.uncork();
      tcp.cork();
    }
  }

  /** A write on `socket` was called back: the oldest frame in flight there is written (or failed). */
  #written(socket: WebSocket, error: Error | null | undefined): void {
    if (socket !== this.#socket || this.#called >= this.#sent.length) return; // the drop already took it back
    const at = this.#called++;
    const entry = this.#sent[at]!;
    if (error) {
      this.#sent[at] = undefined;
      if (this.#ended) rejectEntry(entry, error);
      else this.#requeue([entry]);
      return;
    }
    this.#unconfirmedCount++;
    this.counters.framesOut += 1;
    this.#recent.add(entry);
    if (entry.until === 'written') resolveEntry(entry);
    else if (!entry.announced) {
      entry.announced = true;
      entry.settle?.written?.();
    }
    if (socket === this.#socket && this.#acks.length === 0) this.#requestAck();
  }

  /**
   * The next acknowledgement ping, for what is still unconfirmed after a pong: sent with the next
   * write if one comes in this turn of the event loop (the replies to the messages that arrived with
   * the pong usually do), else on its own at the end of the turn. Pinging from the pong handler at
   * once cost a write of its own per pong — a tenth of the runner's CPU per reply (docs/benchmarks.md).
   */
  #requestAckSoon(): void {
    if (this.#ackSoon) return;
    this.#ackSoon = true;
    setImmediate(() => {
      this.#ackSoon = false;
      this.#requestAck();
    });
  }

  /**
   * A ping asks the platform to prove it handled everything written so far, unless one already asks
   * about all of it or {@link MAX_ACKS} wait. Without any pong the platform is asked again
   * (`reprobeAfter`), and a socket that proves nothing for `confirmTimeout` is given up: every reply
   * waiting for its proof would otherwise wait forever on a socket whose heartbeat still looks healthy.
   */
  #requestAck(): void {
    const socket = this.#socket;
    const acks = this.#acks;
    if (!socket || acks.length >= MAX_ACKS || !this.#pending()) return;
    if (acks.length > 0 && acks[acks.length - 1]! >= this.#writes) return;
    acks.push(this.#writes);
    socket.ping(`${ACK}${this.#writes}`);
    if (acks.length > 1) return;
    const now = Date.now();
    this.#ackSentAt = now;
    this.#unprovenSince ??= now;
    this.#ackTimer ??= this.#armAckTimer(
      Math.min(this.#options.reprobeAfter ?? 1_000, this.#options.confirmTimeout ?? 60_000),
    );
  }

  #armAckTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.#checkAck(), Math.max(0, ms));
    timer.unref();
    return timer;
  }

  /** The acknowledgement timer fired: stalled, asked again, or (most often) nothing to do. */
  #checkAck(): void {
    this.#ackTimer = undefined;
    const socket = this.#socket;
    if (this.#acks.length === 0 || !socket) return;
    const now = Date.now();
    const reprobeAfter = this.#options.reprobeAfter ?? 1_000;
    const timeout = this.#options.confirmTimeout ?? 60_000;
    const since = this.#unprovenSince ?? now;
    if (now - since >= timeout) {
      this.#options.log.warn(
        { unconfirmed: this.#unconfirmedCount, waitedMs: timeout },
        `the platform confirmed no frame for ${timeout} ms although it was asked again; replacing the connection`,
      );
      this.#options.onStalled?.(timeout);
      return;
    }
    if (now - this.#ackSentAt >= reprobeAfter) {
      // A platform may answer only the latest of several pings (RFC 6455), or lose one.
      this.#options.log.debug(
        { unconfirmed: this.#unconfirmedCount },
        'no pong to the delivery ping; asking the platform again',
      );
      // The pings before it may be lost: only this one is waited for (a late pong still proves).
      this.#acks = [this.#writes];
      socket.ping(`${ACK}${this.#writes}`);
      this.#ackSentAt = now;
    }
    this.#ackTimer = this.#armAckTimer(Math.min(this.#ackSentAt + reprobeAfter, since + timeout) - now);
  }

  #clearAckTimers(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#unprovenSince = undefined;
  }

  /**
   * Everything written before write `upTo` whose write was called back is proven. (A frame whose
   * callback has not come yet is confirmed by the next ping: its pong may in theory overtake it.)
   */
  #confirm(upTo: number): void {
    // Re-read on each turn: a settled caller may write more (appended) or, in theory, drop the socket.
    while (this.#head < this.#called) {
      const entry = this.#sent[this.#head];
      if (entry) {
        if (entry.written > upTo) break;
        this.#unconfirmedCount--;
        this.counters.confirmed += 1;
        this.#sent[this.#head++] = undefined;
        resolveEntry(entry);
      } else this.#head++;
    }
    const sent = this.#sent;
    if (this.#head === sent.length) {
      // All proven: start again at the front (the common case under load, where a pong covers a burst).
      sent.length = 0;
      this.#head = this.#called = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= sent.length) {
      this.#sent = sent.slice(this.#head);
      this.#called -= this.#head;
      this.#head = 0;
    }
    this.#checkDrained();
  }

  /** The refused entry: it is unconfirmed (a refusal comes before the pong that would confirm it), or recent. */
  #take(messageId: string): OutboxEntry | undefined {
    for (let i = this.#head; i < this.#called; i++) {
      const entry = this.#sent[i];
      if (entry && messageIdOf(entry.frame) === messageId) {
        this.#sent[i] = undefined;
        this.#unconfirmedCount--;
        this.#recent.take(messageId);
        return entry;
      }
    }
    return this.#recent.take(messageId);
  }

  /**
   * Stops writing for a while after a rate-limit refusal, then sends only the oldest frame and a
   * probe ping: its pong proves the frame passed (a refusal would have come first), and only then
   * does the rest follow, so a refused frame is never overtaken by those queued behind it.
   */
  #pause(retries: number, code: string): void {
    if (this.#pauseTimer !== undefined) return;
    const delay = this.#options.retryDelay(retries);
    this.#options.log.info(
      { delay, retries, code },
      code === 'RATE_LIMITED'
        ? `rate limited by the platform; sending again in ${delay} ms`
        : `the platform could not take a frame (${code}); sending it again in ${delay} ms`,
    );
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = undefined;
      if (!this.#writable()) return; // no socket now: the next open flushes everything in order
      const entry = this.#outbox.shift();
      if (!entry) return;
      this.#write(entry);
      this.#probe = `${PROBE}${entry.seq}`;
      this.#socket!.ping(this.#probe);
    }, delay);
    this.#pauseTimer.unref();
  }

  #requeue(entries: OutboxEntry[]): void {
    this.counters.requeued += entries.length;
    this.#outbox.requeue(entries);
  }

  #drained(): boolean {
    return this.#outbox.size === 0 && !this.#pending();
  }

  /** Whether frames handed to the socket wait for their write or their proof. */
  #pending(): boolean {
    return this.#unconfirmedCount > 0 || this.#called < this.#sent.length;
  }

  #checkDrained(): void {
    if (this.#drainWaiters.size === 0 || !this.#drained()) return;
    for (const waiter of [...this.#drainWaiters]) waiter(true);
  }
}
