/**
 * Catch-up: what arrived while the runner was away.
 *
 * **The invariant.** _An employment's read cursor only moves past messages whose handling is over;
 * every message after the cursor is either handled, being handled, waiting in the pipeline, held
 * here, or still unread on the platform where the next read of history finds it._ The pipeline
 * acknowledges a message only once its handling is over, and an acknowledgement moves the cursor past
 * every earlier message of its employment — so no earlier message may be skipped. Catch-up keeps its
 * half: it never lets a live message of an employment reach the pipeline before that employment's
 * older unread ones, and whatever it cannot hand over (refused, over a limit, history unreadable) it
 * keeps held, so the employment waits, rather than letting a later message through.
 *
 * The platform pushes a message only to sockets open at the time (docs/protocol.md), so at start
 * and after every reconnect a pass reads, for each active employment, the unread messages addressed
 * to the agent and hands them to the pipeline oldest first, then the live frames held meanwhile.
 * Missed notifications (pending invocations, accepted tasks) are synthesized when a handler exists.
 *
 * **On demand, first.** A live message (or a notification naming an employment) for an employment
 * the pass has not reached is not left waiting for its turn: that employment is caught up at once,
 * beside the pass ({@link CatchUp.catchUpNow}'s path), and the pass skips it. One employment is only
 * ever walked by one job at a time (`Pass.active`), so its order holds whichever job takes it.
 *
 * The parts, each with its own unit test (test/runner/catchup/):
 * - `held.ts` — live frames held per employment while it is caught up (bounded);
 * - `history.ts` — walking history back to the read cursor within page and cursor bounds;
 * - `notifications.ts` — the missed notifications, and the id a live copy shares with them;
 * - `schedule.ts` — one job at a time, a new pass stops the old, a failed pass retried with backoff;
 * - `wire.ts` — the runner's registry, pipeline, scheduler and ledger as {@link CatchUpOptions}.
 * This file is the orchestrator: a pass over the employments, one employment, a repair.
 */
import { isC4cError, PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EventName } from '../../protocol/events.js';
import { rfc3339, type ServerFrame } from '../../protocol/frames.js';
import { idNumber, type Id } from '../../protocol/ids.js';
import { HeldFrames } from './held.js';
import { activeEmployments, oldestFirst, toFrame, walkHistory, type CatchUpApi } from './history.js';
import { missedNotifications, NotificationIds } from './notifications.js';
import { PassScheduler } from './schedule.js';

export { notificationKey } from './notifications.js';
export type { CatchUpApi } from './history.js';

/** What catch-up is wired to. */
export interface CatchUpOptions {
  api: CatchUpApi;
  /** Hands a frame to the pipeline (dedupe, route, schedule); `false` when it refused it (backlog full). */
  accept: (frame: ServerFrame) => boolean;
  /** Claims a dedupe key in the ledger; `false` when it was already claimed. */
  claim: (key: string) => boolean;
  /** Forgets a claim. */
  release: (key: string) => void;
  /** Whether an event has somewhere to go (a handler file, the catch-all, a fallback). */
  handles: (name: EventName) => boolean;
  /** Resolves once the scheduler can take one more event (or `signal` aborts); catch-up waits on it. */
  waitForRoom: (signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Live frames held at most, over all employments; beyond it the employment is read again. @default 10_000 */
  holdLimit?: number;
  /** Employments caught up at once by a pass (on-demand ones come on top). @default 8 */
  parallel?: number;
  /** First pause before a failed pass is tried again, ms (doubles up to 30 s). @default 1_000 */
  retryDelay?: number;
}

/** Counters since start. */
export interface CatchUpStats {
  /** Passes started (one at start, one per reconnect, plus retries). */
  passes: number;
  /** Unread messages found in history and handed to the pipeline. */
  messages: number;
  /** Notifications synthesized (pending invocations, accepted tasks). */
  notifications: number;
  /** Live frames held back while their employment was caught up. */
  held: number;
  /** Passes or employments that failed (retried). */
  failures: number;
}

/** One pass's bookkeeping: which employments are taken (by the pass or on demand), which run now. */
interface Pass {
  signal: AbortSignal;
  /** Employments the pass must not start: caught up (or being caught up) on demand. */
  taken: Set<number>;
  /** The job walking each employment now: a second request for it joins that one. */
  active: Map<number, Promise<void>>;
  /** An on-demand job of this pass failed: the pass is not a success (it is retried). */
  failed?: boolean;
}

/** One runner's catch-up: `run()` on every open, `deliver()` for every live frame, `close()` once. */
export class CatchUp {
  readonly stats: CatchUpStats = { passes: 0, messages: 0, notifications: 0, held: 0, failures: 0 };
  readonly #o: CatchUpOptions;
  readonly #held: HeldFrames;
  readonly #notificationIds: NotificationIds;
  readonly #schedule: PassScheduler;
  /** The last catch-up problem logged per employment, so a retry that meets it again does not repeat it. */
  readonly #problems = new Map<number, string>();
  /** Jobs running beside the pass chain (on demand, repairs): `close()` waits for them. */
  readonly #jobs = new Set<Promise<void>>();
  #pass: Pass | undefined;
  #me: Promise<Id> | undefined;

  constructor(options: CatchUpOptions) {
    this.#o = options;
    this.#held = new HeldFrames(options.holdLimit ?? 10_000);
    this.#notificationIds = new NotificationIds(options.holdLimit ?? 10_000);
    this.#schedule = new PassScheduler({
      ...(options.retryDelay === undefined ? {} : { retryDelay: options.retryDelay }),
      onRetry: () => this.run(),
    });
  }

  /**
   * Sees a live frame before the pipeline. `true` when catch-up took it (held for later, or a
   * duplicate of a caught-up notification); `false` when the pipeline should take it now.
   */
  filter(frame: ServerFrame): boolean {
    if (this.#schedule.closed) return false;
    if (frame.type === 'notification') {
      // A notification about an employment not caught up yet: its messages are likely next.
      const named = employmentOf(frame.data);
      if (named !== undefined && this.#held.isHolding(named)) this.#now(named, 'a notification');
      return this.#notificationIds.dropLive(frame, this.#o);
    }
    if (frame.type !== 'message') return false;
    const offer = this.#held.offer(frame);
    if (offer === 'pass') return false;
    // Over the limit it is not held, and not lost: it stays unread and the next read of history finds it.
    if (offer === 'held') this.stats.held++;
    // Someone is waiting for an answer: this employment goes before the ones nobody is waiting on.
    this.#now(idNumber(frame.employmentId), 'a live message');
    return true;
  }

  /**
   * Takes a live frame: held while its employment is caught up, else handed to the pipeline. A
   * message the pipeline refuses (backlog full) must not be passed by the read cursor when a later
   * one is acknowledged, so its employment is held and read again from history once there is room.
   */
  deliver(frame: ServerFrame): void {
    if (this.filter(frame)) return;
    if (!this.#o.accept(frame) && frame.type === 'message' && !this.#schedule.closed)
      this.catchUpNow(idNumber(frame.employmentId), 'a refused message');
  }

  /** Whether a pass is running or waiting for a retry: the readiness check's "catching up". */
  get pending(): boolean {
    return this.#schedule.pending;
  }

  /** Starts a pass (at start and after every reconnect); a pass still running is stopped first. */
  run(): void {
    if (this.#schedule.closed) return;
    const signal = this.#schedule.begin();
    const pass: Pass = { signal, taken: new Set(), active: new Map() };
    this.#pass = pass;
    // Held from now: a live message must not overtake the unread ones the pass is about to find.
    this.#held.holdAll();
    // What an earlier socket's held list says is no guide on this one: messages stored while there
    // was no socket sit between those frames and the next live ones, in neither place. Everything
    // held is still unread on the platform, so the pass reads it all from history, in order.
    this.#held.forget();
    this.#schedule.then(async () => {
      if (!signal.aborted) await this.#runPass(pass);
    });
  }

  /**
   * Holds one employment and reads its history again now, beside a pass that may be running (the
   * pass then skips it) — the seam for on-demand catch-up of one conversation. A job already
   * walking it reads it again once more instead. `reason` goes into the log line if it fails.
   */
  catchUpNow(employmentId: number, reason = 'a request'): void {
    if (this.#schedule.closed) return;
    this.#held.hold(employmentId);
    this.#held.markDirty(employmentId);
    this.#now(employmentId, reason);
  }

  /** Catches up one (held) employment now, unless a job is walking it already (that one drains what is held). */
  #now(id: number, reason: string): void {
    if (this.#schedule.closed) return;
    const pass: Pass = (this.#pass ??= {
      signal: this.#schedule.signal,
      taken: new Set(),
      active: new Map(),
    });
    pass.taken.add(id);
    // Held by name, not only by "everything is held until the list is known": if this job fails,
    // the list must not let its live messages through ahead of the unread ones.
    this.#held.hold(id);
    if (pass.active.has(id)) return;
    const { signal } = pass;
    const job = (async () => {
      try {
        await this.#o.waitForRoom(signal);
        if (signal.aborted) return;
        await this.#employment(id, await this.#agentId(signal), signal);
        this.#problems.delete(id);
      } catch (error) {
        if (signal.aborted || this.#schedule.closed) return;
        if (gone(error)) {
          await this.#release(id, signal);
          return;
        }
        this.stats.failures++;
        pass.failed = true;
        // Every live message of a broken employment asks again: the same problem is logged once at warn.
        const problem = text(error);
        const repeated = this.#problems.get(id) === problem;
        this.#problems.set(id, problem);
        this.#o.logger[repeated ? 'debug' : 'warn'](
          { err: error, employmentId: id },
          `could not read employment ${id} after ${reason}: ${problem}; its messages wait until a retry succeeds`,
        );
        // Still held (order before liveness); a new pass reads it again.
        this.#schedule.retryLater();
      } finally {
        pass.active.delete(id);
      }
    })();
    pass.active.set(id, job);
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
  }

  /** Stops: no more passes, nothing held. Safe to call twice. */
  async close(): Promise<void> {
    await this.#schedule.close();
    await Promise.all(this.#jobs);
    // The pipeline takes nothing more; what was held stays unread and is caught up at the next start.
    this.#held.clear();
  }

  async #runPass(pass: Pass): Promise<void> {
    const { signal } = pass;
    const { logger } = this.#o;
    this.stats.passes++;
    const started = Date.now();
    const before = { messages: this.stats.messages, notifications: this.stats.notifications };
    let failed = false;
    try {
      const me = await this.#agentId(signal);
      // The list is read a page at a time (100 employments, 500 pages at 50,000): the workers start
      // on each page as it comes rather than after the last one.
      const employments: number[] = [];
      let listed = false;
      let waiting: (() => void)[] = [];
      const wake = (): void => {
        for (const resume of waiting) resume();
        waiting = [];
      };
      const listing = (async () => {
        try {
          const all = await activeEmployments(this.#o.api, signal, (ids) => {
            // Those taken on demand meanwhile are (being) caught up: holding them again would strand them.
            for (const id of ids) if (!pass.taken.has(id)) this.#held.hold(id);
            employments.push(...ids);
            wake();
          });
          this.#held.holdListed();
          // Live messages of employments that are not active for the platform (or new) go on at once.
          const keep = new Set(all);
          for (const id of pass.taken) keep.add(id);
          await this.#releaseAllBut(keep, signal);
        } finally {
          listed = true;
          wake();
        }
      })();

      let next = 0;
      const worker = async (): Promise<void> => {
        for (;;) {
          if (next >= employments.length) {
            if (listed || signal.aborted) return;
            await new Promise<void>((resolve) => waiting.push(resolve));
            continue;
          }
          const id = employments[next++]!;
          if (signal.aborted) return;
          // Caught up on demand (or being): it went first, it is not walked twice.
          if (pass.taken.has(id)) continue;
          pass.taken.add(id);
          const job = this.#employment(id, me, signal);
          pass.active.set(id, job);
          try {
            await job;
            this.#problems.delete(id);
          } catch (error) {
            if (signal.aborted) return;
            if (gone(error)) {
              // Ended or no longer ours since the list was read: nothing to catch up, nothing to retry.
              logger.debug({ employmentId: id }, `employment ${id} is gone: ${text(error)}`);
              await this.#release(id, signal);
              continue;
            }
            failed = true;
            this.stats.failures++;
            // Still held: a live message handled now would be acknowledged, and the read cursor would
            // pass the unread ones history could not show. Order and nothing lost come before liveness.
            // The same problem again (each retry) is logged once at warn, then at debug.
            const problem = text(error);
            const repeated = this.#problems.get(id) === problem;
            this.#problems.set(id, problem);
            logger[repeated ? 'debug' : 'warn'](
              { err: error, employmentId: id },
              `could not catch up employment ${id}: ${problem}; its messages wait until a retry succeeds`,
            );
          } finally {
            pass.active.delete(id);
          }
        }
      };
      const workers = Promise.all(Array.from({ length: Math.max(1, this.#o.parallel ?? PARALLEL) }, worker));
      // The workers finish what was listed even when a later page fails; the failure then fails the pass.
      const [list] = await Promise.allSettled([listing, workers]);
      if (list.status === 'rejected') throw list.reason;
      // The pass is over when the employments taken on demand are too (they report their own failures).
      while (pass.active.size > 0) await Promise.all(pass.active.values());
      if (signal.aborted) return;
      // Later requests only need `active`; 50,000 ids need not stay in memory until the next pass.
      pass.taken.clear();
      await this.#notifications(signal);
    } catch (error) {
      if (signal.aborted || this.#schedule.closed) return;
      failed = true;
      this.stats.failures++;
      // What is held stays held (see above); before the list of employments is known, that is every message.
      logger.warn(
        { err: error },
        `catch-up failed: ${text(error)}; held messages wait until a retry succeeds`,
      );
    }
    if (signal.aborted || this.#schedule.closed) return;
    const found = this.stats.messages - before.messages;
    const notes = this.stats.notifications - before.notifications;
    if (found + notes > 0 || failed) {
      logger.info(
        { messages: found, notifications: notes, ms: Date.now() - started },
        `caught up ${found} unread message(s) and ${notes} notification(s) from while the runner was away`,
      );
    } else logger.debug({ ms: Date.now() - started }, 'catch-up: nothing unread');
    if (failed || pass.failed) this.#schedule.retryLater();
    else this.#schedule.succeeded();
  }

  /** The agent's id, asked once: the pass and an on-demand job starting together share the one request. */
  async #agentId(signal: AbortSignal): Promise<Id> {
    const asked = (this.#me ??= this.#o.api.me({ signal }).then((me) => me.id));
    try {
      return await asked;
    } catch (error) {
      // A failed ask is not kept: the next job asks again.
      if (this.#me === asked) this.#me = undefined;
      throw error;
    }
  }

  /** One employment: its unread messages in order, then its held live frames, then live again. */
  async #employment(id: number, me: Id, signal: AbortSignal): Promise<void> {
    const held = this.#held;
    do {
      // Frames were dropped after the held ones: history has them all, in order, so it alone is used.
      if (held.isDirty(id)) held.drop(id);
      held.clean(id);
      if (this.#o.handles('message')) {
        const pages = await walkHistory(this.#o.api, id, me, signal);
        // The socket delivers in order: from the first held message on, the rest of history is held
        // or still on its way (and will be held), so it goes from the held list, after this.
        const heldIds = held.messageIds(id);
        for await (const message of oldestFirst(this.#o.api, id, me, pages, signal)) {
          if (heldIds.has(message.messageId)) break;
          await this.#o.waitForRoom(signal);
          if (signal.aborted) return;
          if (!this.#o.accept(toFrame(message))) {
            this.#refusedDuring(id);
            break;
          }
          this.stats.messages++;
        }
      }
      await this.#drainHeld(id, signal);
    } while (held.isDirty(id) && !signal.aborted);
    if (!signal.aborted) held.unhold(id);
  }

  /** Releases the held frames of an employment in order; frames arriving meanwhile join the end. */
  async #drainHeld(id: number, signal: AbortSignal): Promise<void> {
    while (this.#held.has(id)) {
      await this.#o.waitForRoom(signal);
      if (signal.aborted) return;
      const frame = this.#held.shift(id);
      if (!frame) return;
      if (!this.#o.accept(frame)) {
        this.#refusedDuring(id);
        return;
      }
    }
  }

  /** Refused while being caught up: what is still held is unread on the platform; read it again. */
  #refusedDuring(id: number): void {
    this.#held.drop(id);
    this.#held.markDirty(id);
  }

  /** Stops holding an employment after its catch-up failed: live frames flow again, in order. */
  async #release(id: number, signal: AbortSignal): Promise<void> {
    await this.#drainHeld(id, signal);
    if (!signal.aborted) this.#held.unhold(id);
  }

  async #releaseAllBut(keep: Set<number>, signal: AbortSignal): Promise<void> {
    for (const id of this.#held.employments()) {
      if (keep.has(id)) continue;
      await this.#drainHeld(id, signal);
      if (signal.aborted) return;
    }
    this.#held.unholdAllBut(keep);
  }

  /** Pending invocations (as provider) and accepted tasks without a submission, as the notifications missed. */
  async #notifications(signal: AbortSignal): Promise<void> {
    for await (const missed of missedNotifications(this.#o.api, this.#o.handles, signal)) {
      await this.#o.waitForRoom(signal);
      if (signal.aborted) return;
      // The messageId a live copy came with, if one did: the ledger then drops whichever copy comes second.
      if (this.#o.accept(this.#notificationIds.frameOf(missed, rfc3339))) this.stats.notifications++;
    }
  }
}

/** Employments caught up at once by a pass, by default. */
export const PARALLEL = 8;

/** The employment a notification's data names, if any. */
function employmentOf(data: Record<string, unknown>): number | undefined {
  const id = data.employmentId;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
  if (typeof id === 'string' && /^[1-9]\d{0,15}$/.test(id)) return Number(id);
  return undefined;
}

/** The platform says the employment is not there (any more) for this agent. */
function gone(error: unknown): boolean {
  if (!(error instanceof PlatformError)) return false;
  return (
    error.status === 404 || error.status === 403 || /NOT_FOUND|FORBIDDEN|NOT_ACTIVE/.test(error.platformCode)
  );
}

function text(error: unknown): string {
  if (isC4cError(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}
