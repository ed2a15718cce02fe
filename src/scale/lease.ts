/**
 * The socket holder's lease: at most one process of an agent holds the platform socket.
 *
 * Taken with SET NX PX (inside a script that also INCRs the epoch), renewed every `ms / 5` by a
 * script that extends it only while its value (`<process>:<epoch>`) is still ours. The holder
 * fences itself: if no renewal has succeeded by `ms - margin` after the last successful one was
 * *sent* (the lease can only have expired `ms` after that moment), `onLost` runs, and the holder
 * closes its socket then — before Redis can give the lease to anyone else. The margin (`ms / 3`)
 * is the time the socket gets to close. A process killed with -9 renews nothing: its lease expires
 * and another process takes it within `ms` (plus one renewal interval).
 */
import type { Logger } from '../log.js';
import type { ScriptedRedis } from './redis.js';

/** Settings of a {@link HolderLease}. */
export interface HolderLeaseOptions {
  client: ScriptedRedis;
  /** The lease key and the epoch counter key. */
  key: string;
  epochKey: string;
  /** This process. */
  owner: string;
  /** Lease time, ms. */
  ms: number;
  logger: Logger;
  /** This process now holds the lease, with a new epoch. */
  onAcquired: (epoch: number) => void;
  /** This process must stop holding: close the socket now (`why` for the log). */
  onLost: (why: string) => void;
}

/** One process's attempt at being the socket holder. */
export class HolderLease {
  readonly #o: HolderLeaseOptions;
  #value: string | undefined;
  #epoch: number | undefined;
  #fence: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = false;

  constructor(options: HolderLeaseOptions) {
    this.#o = options;
  }

  /** The epoch while this process holds the lease, else `undefined`. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /** The lease's value while held (`<process>:<epoch>`): the fence of every write the holder makes. */
  get value(): string | undefined {
    return this.#value;
  }

  /** The margin before expiry at which a holder that could not renew lets go, ms. */
  get margin(): number {
    return Math.floor(this.#o.ms / 3);
  }

  /** Tries now, then every `ms / 5`. Resolves after the first try. */
  async start(): Promise<void> {
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), Math.max(20, Math.floor(this.#o.ms / 5)));
    this.#timer.unref();
  }

  /** One try: take the lease when free, renew it when held. */
  async tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    const { client, key, epochKey, owner, ms } = this.#o;
    const sent = performance.now();
    try {
      if (this.#value === undefined) {
        const epoch = await client.acquireHolder(key, epochKey, owner, ms);
        if (epoch !== null && !this.#stopped) {
          this.#value = `${owner}:${epoch}`;
          this.#epoch = Number(epoch);
          this.#armFence(sent);
          this.#o.onAcquired(this.#epoch);
        }
      } else {
        const value = this.#value;
        const renewed = await client.renewLease(key, value, ms);
        if (this.#value !== value) return;
        if (renewed === 1) this.#armFence(sent);
        else this.#lose('another process holds the lease now');
      }
    } catch (error) {
      // Not fatal by itself: the fence fires if no renewal gets through in time.
      this.#o.logger.debug({ err: error }, `holder lease: ${(error as Error).message}`);
    } finally {
      this.#busy = false;
    }
  }

  /** Lets go (on close): deletes the lease if still ours, so another process need not wait it out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#fence);
    const value = this.#value;
    this.#value = undefined;
    this.#epoch = undefined;
    if (value !== undefined) await this.#o.client.releaseLease(this.#o.key, value).catch(() => 0);
  }

  /** Gives up the lease at once (a write was refused by the fence, the socket gave up). */
  drop(why: string): void {
    const value = this.#value;
    this.#lose(why);
    if (value !== undefined) void this.#o.client.releaseLease(this.#o.key, value).catch(() => 0);
  }

  #armFence(sentAt: number): void {
    clearTimeout(this.#fence);
    const left = sentAt + this.#o.ms - this.margin - performance.now();
    this.#fence = setTimeout(
      () =>
        this.#lose(`the lease could not be renewed for ${this.#o.ms - this.margin} ms (Redis unreachable?)`),
      Math.max(0, left),
    );
    this.#fence.unref();
  }

  #lose(why: string): void {
    clearTimeout(this.#fence);
    if (this.#value === undefined) return;
    this.#value = undefined;
    this.#epoch = undefined;
    this.#o.onLost(why);
  }
}
