/**
 * @module
 * Live message frames held back while their employment is caught up, so that a live message never
 * overtakes an older unread one. Bounded: past the limit a frame is not kept but its employment is
 * marked dirty — the frame is still unread on the platform, and history is read again for it.
 */
import type { ServerFrame } from '../../protocol/frames.js';
import { idNumber } from '../../protocol/ids.js';

/** What {@link HeldFrames.offer} did with a live message. */
export type Offer =
  /** Its employment is not held: the pipeline takes it now. */
  | 'pass'
  /** Kept, to be released after its employment's history. */
  | 'held'
  /** Over the limit: not kept, its employment held and marked dirty (history is read again). */
  | 'overflow';

/** The held frames of every employment, and which employments hold their live frames. */
export class HeldFrames {
  readonly #limit: number;
  /** Live message frames waiting for their employment's catch-up, in arrival order. */
  readonly #held = new Map<number, ServerFrame[]>();
  /** Employments whose live frames are held (being caught up). */
  readonly #holding = new Set<number>();
  /** Employments whose held frames are no guide (dropped over the limit, or refused): read history again. */
  readonly #dirty = new Set<number>();
  /** Employments caught up on demand while {@link holdAll} is on: their live frames pass. */
  readonly #free = new Set<number>();
  #count = 0;
  /** Until the list of employments is known, every live message is held (but those in #free). */
  #all = false;

  /** @param limit frames held at most, over all employments. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Frames held now, over all employments. */
  get size(): number {
    return this.#count;
  }

  /** Holds every employment's live messages (a pass has begun and does not know the employments yet). */
  holdAll(): void {
    this.#all = true;
    this.#free.clear();
  }

  /** The list of employments is known: only those in {@link hold} stay held. */
  holdListed(): void {
    this.#all = false;
    this.#free.clear();
  }

  /** Holds an employment's live messages from now on. */
  hold(id: number): void {
    this.#holding.add(id);
    this.#free.delete(id);
  }

  /** Stops holding an employment: its live frames go to the pipeline again. */
  unhold(id: number): void {
    this.#holding.delete(id);
    // Caught up before the list of employments is known: it is not held with the rest.
    if (this.#all) this.#free.add(id);
  }

  /** Stops holding every employment not in `keep`. */
  unholdAllBut(keep: ReadonlySet<number>): void {
    for (const id of this.#holding) if (!keep.has(id)) this.#holding.delete(id);
  }

  /** Whether an employment's live frames are held now. */
  isHolding(id: number): boolean {
    return this.#holding.has(id) || (this.#all && !this.#free.has(id));
  }

  /** Takes a live message frame while its employment is held; see {@link Offer}. */
  offer(frame: Extract<ServerFrame, { type: 'message' }>): Offer {
    const id = idNumber(frame.employmentId);
    if (!this.isHolding(id)) return 'pass';
    if (this.#count >= this.#limit) {
      this.#dirty.add(id);
      this.hold(id);
      return 'overflow';
    }
    let list = this.#held.get(id);
    if (!list) this.#held.set(id, (list = []));
    list.push(frame);
    this.#count++;
    return 'held';
  }

  /** Employments that have frames held. */
  employments(): number[] {
    return [...this.#held.keys()];
  }

  /** The `messageId`s held for an employment. */
  messageIds(id: number): Set<string | undefined> {
    return new Set(this.#held.get(id)?.map((f) => (f as { messageId?: string }).messageId));
  }

  /** Whether an employment has frames waiting to be released. */
  has(id: number): boolean {
    return (this.#held.get(id)?.length ?? 0) > 0;
  }

  /** Takes an employment's oldest held frame; frames held meanwhile join the end. */
  shift(id: number): ServerFrame | undefined {
    const list = this.#held.get(id);
    const frame = list?.shift();
    if (frame) this.#count--;
    if (list && list.length === 0) this.#held.delete(id);
    return frame;
  }

  /** Forgets what an employment holds (it is still unread on the platform). */
  drop(id: number): void {
    this.#count -= this.#held.get(id)?.length ?? 0;
    this.#held.delete(id);
  }

  /** Marks an employment's held list as no guide: history is read again before it is released. */
  markDirty(id: number): void {
    this.#dirty.add(id);
  }

  isDirty(id: number): boolean {
    return this.#dirty.has(id);
  }

  /** History is about to be read for it: whatever it was dirty for is covered. */
  clean(id: number): void {
    this.#dirty.delete(id);
  }

  /**
   * A new socket: every held frame is forgotten (still unread on the platform, history has it) —
   * what an earlier socket held is no guide on this one. Which employments are held stays.
   */
  forget(): void {
    for (const list of this.#held.values()) list.length = 0;
    this.#held.clear();
    this.#count = 0;
    this.#dirty.clear();
  }

  /** Catch-up stopped: nothing held, nothing holding. */
  clear(): void {
    this.#held.clear();
    this.#holding.clear();
    this.#free.clear();
    this.#count = 0;
    this.#all = false;
  }
}
