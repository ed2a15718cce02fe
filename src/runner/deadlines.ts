/**
 * Handler deadlines without a timer per event. Every event's deadline is its start plus its
 * handler's time limit, and handlers with the same limit start in time order, so one doubly linked
 * list per limit is already sorted: adding appends, finishing unlinks (both O(1)), and one timer per
 * list waits for its head. A timer per event (set, then cleared when the handler returns) was a
 * visible share of the runner's CPU per reply (docs/benchmarks.md).
 */

/** One deadline, as {@link Deadlines.add} returns it; pass it back to `remove`. */
export interface Deadline<T> {
  /** When it expires, `Date.now()` ms. */
  readonly at: number;
  /** What expires (handed to the list's `expire`). */
  readonly value: T;
  /** @internal */ prev: Deadline<T> | undefined;
  /** @internal */ next: Deadline<T> | undefined;
  /** @internal */ list: DeadlineList<T> | undefined;
}

/** The deadlines of one time limit, oldest first, and the timer that waits for the oldest. */
interface DeadlineList<T> {
  readonly limit: number;
  head: Deadline<T> | undefined;
  tail: Deadline<T> | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Sorted deadline lists, one timer per distinct time limit. `Date.now()` (not `performance.now()`)
 * so that fake timers drive it in tests.
 */
export class Deadlines<T> {
  readonly #lists = new Map<number, DeadlineList<T>>();
  readonly #expire: (value: T) => void;

  /** @param expire called with the value of each deadline that passes (one callback for all: no closure per deadline) */
  constructor(expire: (value: T) => void) {
    this.#expire = expire;
  }

  /** Expires `value` once `limit` ms have passed, unless the deadline is removed first. */
  add(limit: number, value: T): Deadline<T> {
    let list = this.#lists.get(limit);
    if (!list) {
      list = { limit, head: undefined, tail: undefined, timer: undefined };
      this.#lists.set(limit, list);
    }
    const deadline: Deadline<T> = { at: Date.now() + limit, value, prev: list.tail, next: undefined, list };
    if (list.tail) list.tail.next = deadline;
    else list.head = deadline;
    list.tail = deadline;
    // A timer already waiting for an earlier head fires first and re-arms for this one.
    if (!list.timer) this.#arm(list);
    return deadline;
  }

  /** Forgets a deadline (its handler finished). Safe to call twice. */
  remove(deadline: Deadline<T>): void {
    const list = deadline.list;
    if (!list) return;
    deadline.list = undefined;
    if (deadline.prev) deadline.prev.next = deadline.next;
    else list.head = deadline.next;
    if (deadline.next) deadline.next.prev = deadline.prev;
    else list.tail = deadline.prev;
    deadline.prev = deadline.next = undefined;
    // The timer stays armed: it fires for a head that is gone, finds nothing due and re-arms (or
    // stops when the list is empty) — cheaper than clearing and setting a timer per event.
  }

  /** Removes every deadline and calls `fn` with each value, oldest first per limit (shutdown). */
  drain(fn: (value: T) => void): void {
    for (const list of this.#lists.values()) {
      clearTimeout(list.timer);
      list.timer = undefined;
      let deadline = list.head;
      while (deadline) {
        const next = deadline.next;
        this.remove(deadline);
        fn(deadline.value);
        deadline = next;
      }
    }
  }

  /** Deadlines waiting, over all lists (for tests). */
  get size(): number {
    let size = 0;
    for (const list of this.#lists.values()) for (let d = list.head; d; d = d.next) size++;
    return size;
  }

  #arm(list: DeadlineList<T>): void {
    const head = list.head;
    if (!head) {
      list.timer = undefined;
      return;
    }
    list.timer = setTimeout(() => this.#fire(list), Math.max(0, head.at - Date.now()));
    list.timer.unref();
  }

  #fire(list: DeadlineList<T>): void {
    list.timer = undefined;
    const now = Date.now();
    while (list.head && list.head.at <= now) {
      const due = list.head;
      this.remove(due);
      this.#expire(due.value);
    }
    if (!list.timer) this.#arm(list);
  }
}
