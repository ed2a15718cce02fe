/**
 * The seam where the pipeline calls a handler. In-process (no executor) the pipeline calls
 * `entry.handle(ctx)` itself, at no extra cost; `workers: n` puts a pool of threads there
 * (./workers/pool.ts). Everything around the call (ordering, the concurrency limit, the time limit,
 * retries, the reply, the acknowledgement) stays on the main thread either way.
 */
import type { Context } from './context.js';
import type { HandlerEntry } from './registry.js';

/** Runs one handler for one event and settles as the handler did: its return value, or what it threw. */
export interface HandlerExecutor {
  /**
   * Runs `entry` with `ctx` (the main thread's context, whose `signal` aborts on timeout and shutdown).
   * Resolves with the handler's return value; rejects with what it threw.
   */
  run(entry: HandlerEntry, ctx: Context): Promise<unknown>;
  /** Stops every thread; handlers still running are terminated. */
  close(): Promise<void>;
}
