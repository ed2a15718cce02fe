/**
 * PassScheduler alone, under fake timers: jobs one at a time in order, a new pass aborting the
 * running one, retries after 1 s doubling to 30 s, and close() releasing everything.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RETRY_DELAY, PassScheduler } from '../../../src/runner/catchup/schedule.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PassScheduler', () => {
  it('runs jobs one at a time, in the order queued', async () => {
    const schedule = new PassScheduler({ onRetry: () => {} });
    const log: string[] = [];
    const first = deferred();
    schedule.then(async () => {
      log.push('1 start');
      await first.promise;
      log.push('1 end');
    });
    schedule.then(async () => {
      log.push('2');
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['1 start']);
    first.resolve();
    await schedule.close();
    expect(log).toEqual(['1 start', '1 end', '2']);
  });

  it('a new pass aborts the signal of the one before; work queued for a pass sees its signal', () => {
    const schedule = new PassScheduler({ onRetry: () => {} });
    const early = schedule.signal; // work before any pass gets a signal too
    const first = schedule.begin();
    expect(early.aborted).toBe(true);
    expect(schedule.signal).toBe(first);
    expect(schedule.pending).toBe(true);
    const second = schedule.begin();
    expect(first.aborted).toBe(true);
    expect(second.aborted).toBe(false);
    schedule.succeeded();
    expect(schedule.pending).toBe(false);
  });

  it('a failed pass is retried after 1 s, doubling to 30 s, still pending; success starts the backoff over', async () => {
    const retries: number[] = [];
    const schedule = new PassScheduler({ onRetry: () => retries.push(Date.now()) });
    const start = Date.now();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      schedule.begin();
      schedule.retryLater();
      expect(schedule.pending).toBe(true);
      const before = retries.length;
      const from = Date.now();
      while (retries.length === before) await vi.advanceTimersByTimeAsync(500);
      waits.push(retries.at(-1)! - from);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, MAX_RETRY_DELAY, MAX_RETRY_DELAY]);
    expect(Date.now()).toBeGreaterThan(start);
    schedule.succeeded();
    schedule.retryLater();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(retries).toHaveLength(8);
  });

  it('a new pass cancels a retry that was waiting; close() cancels it too and leaves no timer', async () => {
    const onRetry = vi.fn();
    const schedule = new PassScheduler({ onRetry, retryDelay: 100 });
    schedule.retryLater();
    schedule.begin();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onRetry).not.toHaveBeenCalled();
    schedule.retryLater();
    const signal = schedule.signal;
    await schedule.close();
    await schedule.close();
    expect(schedule.closed).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('close() waits for the running job', async () => {
    const schedule = new PassScheduler({ onRetry: () => {} });
    const job = deferred();
    let done = false;
    schedule.then(async () => {
      await job.promise;
      done = true;
    });
    const closed = schedule.close().then(() => 'closed');
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    job.resolve();
    expect(await closed).toBe('closed');
    expect(done).toBe(true);
  });
});
