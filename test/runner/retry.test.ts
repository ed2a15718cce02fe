/**
 * The failure policy's parts alone: which errors are passing, the backoff (with an injected random
 * source), and the scheduler's retries — the slot is free during the wait, the key is not, and a
 * close drops a waiting retry instead of waiting for it (fake timers).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { C4cError, PlatformError } from '../../src/errors.js';
import { RetryLaterError, isPassingError, retryDelay, shouldRetry } from '../../src/runner/retry.js';
import { Scheduler } from '../../src/runner/scheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

const policy = { attempts: 4, initialDelay: 1_000, maxDelay: 5_000 };

describe('the policy', () => {
  it('counts RetryLaterError, an unreachable platform, 429/5xx and a failed webhook as passing; a bug or a 404 is not', () => {
    expect(isPassingError(new RetryLaterError('later'))).toBe(true);
    expect(isPassingError(new C4cError('E_NETWORK', 'down'))).toBe(true);
    expect(isPassingError(new C4cError('E_WEBHOOK', 'down'))).toBe(true);
    expect(isPassingError(new PlatformError(503, 'UNAVAILABLE', 'busy'))).toBe(true);
    expect(isPassingError(new PlatformError(429, 'RATE_LIMITED', 'slow down'))).toBe(true);
    expect(isPassingError(new PlatformError(404, 'NOT_FOUND', 'no such employment'))).toBe(false);
    expect(isPassingError(new TypeError('x is not a function'))).toBe(false);
    expect(isPassingError('a string')).toBe(false);
    // A copy of the class from another install is recognised by its brand.
    const foreign = Object.assign(new Error('later'), { [Symbol.for('c4c-runner.RetryLaterError')]: true });
    expect(foreign instanceof RetryLaterError).toBe(true);
  });

  it('backs off with equal jitter, capped, and takes the delay a RetryLaterError names', () => {
    expect(retryDelay(policy, 1, new Error(), () => 0)).toBe(500);
    expect(retryDelay(policy, 1, new Error(), () => 0.999)).toBe(999);
    expect(retryDelay(policy, 3, new Error(), () => 0)).toBe(2_000);
    expect(retryDelay(policy, 10, new Error(), () => 1)).toBe(5_000);
    expect(retryDelay(policy, 1, new RetryLaterError('x', { delay: 42 }), () => 0)).toBe(42);
    expect(() => new RetryLaterError('x', { delay: -1 })).toThrow(/delay must be a number of ms >= 0/);
  });

  it('stops at the last attempt; a custom retryOn decides, and one that throws means no', () => {
    const later = new RetryLaterError();
    expect([1, 2, 3, 4].map((a) => shouldRetry(policy, a, later))).toEqual([true, true, true, false]);
    const custom = { ...policy, retryOn: (e: unknown) => e instanceof TypeError };
    expect(shouldRetry(custom, 1, new TypeError('flaky'))).toBe(true);
    expect(shouldRetry(custom, 1, later)).toBe(false);
    const throwing = {
      ...policy,
      retryOn: () => {
        throw new Error('bad predicate');
      },
    };
    expect(shouldRetry(throwing, 1, later)).toBe(false);
  });
});

describe('the scheduler retries', () => {
  it('frees the slot while a job waits to be retried, keeps its key waiting behind it, and runs it again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const order: string[] = [];
    let tries = 0;
    scheduler.schedule('a', async () => {
      order.push(`a1 try ${++tries}`);
      return tries < 3 ? { retryAfter: 1_000 } : undefined;
    });
    scheduler.schedule('a', async () => {
      order.push('a2');
    });
    scheduler.schedule('b', async () => {
      order.push('b1');
    });
    await vi.advanceTimersByTimeAsync(0);
    // The only slot went to b while a1 waits; a2 waits behind a1.
    expect(order).toEqual(['a1 try 1', 'b1']);
    expect(scheduler.stats).toMatchObject({ running: 0, waiting: 2 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(['a1 try 1', 'b1', 'a1 try 2']);
    await vi.advanceTimersByTimeAsync(1_000);
    await scheduler.onIdle();
    expect(order).toEqual(['a1 try 1', 'b1', 'a1 try 2', 'a1 try 3', 'a2']);
    expect(scheduler.stats.waiting).toBe(0);
  });

  it('close() drops a job waiting to be retried at once (it stays unacknowledged), not after its delay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    let runs = 0;
    scheduler.schedule('a', async () => {
      runs++;
      return { retryAfter: 3_600_000 };
    });
    await vi.advanceTimersByTimeAsync(0);
    const closed = await scheduler.close(1_000);
    expect(closed).toEqual({ drained: true, dropped: 1 });
    expect(runs).toBe(1);
    expect(scheduler.stats.waiting).toBe(0);
  });
});
