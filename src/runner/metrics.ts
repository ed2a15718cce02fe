/**
 * The runner's figures for operators: what arrived, what became of it, how long handlers took, how
 * the connection fares. Plain counters and a fixed-bucket histogram, fed by the runner's own hooks;
 * no dependency, so embedding the runner costs a few map increments per event. `runner.metrics()`
 * returns a snapshot; the Prometheus exporter (`prometheus.ts`) renders the same snapshot.
 */
import { eventNameOf } from '../protocol/events.js';
import type { ServerFrame } from '../protocol/frames.js';
import type { EventOutcome } from './pipeline.js';

/** Upper bounds (seconds) of the handler-duration buckets: 5 ms … 60 s, around the 30 s default limit. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** What became of a handled event (the `kind` of an {@link EventOutcome}). */
export type OutcomeKind = EventOutcome['kind'];

/** A cumulative histogram, Prometheus style. */
export interface DurationHistogram {
  /** Events per bucket, cumulative: `counts[i]` took at most `DURATION_BUCKETS[i]` seconds. */
  readonly counts: readonly number[];
  /** All events (the `+Inf` bucket). */
  readonly count: number;
  /** Sum of the durations, seconds. */
  readonly sum: number;
}

/** The counters of one event name's handlers. */
export interface HandlerFigures {
  /** Finished handlers by outcome: replied, no-reply, failed, timed-out, aborted, unsent. */
  readonly outcomes: Readonly<Partial<Record<OutcomeKind, number>>>;
  /** Time in the handler (without the reply's delivery). */
  readonly duration: DurationHistogram;
}

/** What the recorder counts itself (the rest of {@link RunnerMetrics} comes from the runner's stats). */
export interface RecordedFigures {
  /** Events received from the socket, by event name (catch-up finds are in `catchUp.messages`). */
  readonly events: Readonly<Record<string, number>>;
  /** Handlers by event name. */
  readonly handlers: Readonly<Record<string, HandlerFigures>>;
  /** Sockets opened again after a drop. */
  readonly reconnects: number;
  /** Messages marked read on the platform (one call may cover several messages of an employment). */
  readonly acknowledgements: number;
  /** Replies the platform refused for good after they were sent (`EMPLOYMENT_NOT_ACTIVE`, rate limit spent). */
  readonly undeliverable: number;
}

interface MutableHandler {
  outcomes: Partial<Record<OutcomeKind, number>>;
  counts: number[];
  count: number;
  sum: number;
}

/** Counts as the runner reports; never throws into it. */
export class MetricsRecorder {
  readonly #events = new Map<string, number>();
  readonly #handlers = new Map<string, MutableHandler>();
  #reconnects = 0;
  #acknowledgements = 0;
  #undeliverable = 0;

  /** A validated frame from the socket. */
  frame(frame: ServerFrame): void {
    // The event's name without routing it (the pipeline does that): no object per frame here.
    const name = eventNameOf(frame);
    if (name === undefined) return;
    this.#events.set(name, (this.#events.get(name) ?? 0) + 1);
  }

  /** A handler's outcome (`RunnerOptions.onOutcome`). */
  outcome(outcome: EventOutcome): void {
    const name = outcome.routed.name;
    let figures = this.#handlers.get(name);
    if (!figures) {
      figures = { outcomes: {}, counts: DURATION_BUCKETS.map(() => 0), count: 0, sum: 0 };
      this.#handlers.set(name, figures);
    }
    figures.outcomes[outcome.kind] = (figures.outcomes[outcome.kind] ?? 0) + 1;
    const seconds = outcome.durationMs / 1_000;
    figures.count++;
    figures.sum += seconds;
    for (let i = 0; i < DURATION_BUCKETS.length; i++)
      if (seconds <= DURATION_BUCKETS[i]!) figures.counts[i]!++;
  }

  /** A socket opened after a drop. */
  reconnected(): void {
    this.#reconnects++;
  }

  /** The platform confirmed a mark-read. */
  acknowledged(): void {
    this.#acknowledgements++;
  }

  /** The platform refused a sent reply for good. */
  refused(): void {
    this.#undeliverable++;
  }

  /** A copy of the figures, safe to keep. */
  snapshot(): RecordedFigures {
    const handlers: Record<string, HandlerFigures> = {};
    for (const [name, f] of this.#handlers) {
      handlers[name] = {
        outcomes: { ...f.outcomes },
        duration: { counts: [...f.counts], count: f.count, sum: f.sum },
      };
    }
    return {
      events: Object.fromEntries(this.#events),
      handlers,
      reconnects: this.#reconnects,
      acknowledgements: this.#acknowledgements,
      undeliverable: this.#undeliverable,
    };
  }
}
