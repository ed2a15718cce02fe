/**
 * The ledger's acknowledgement pacing: a quiet employment is acknowledged at once, a busy one at
 * most once per `ackInterval` (to its newest id), never more than `ackConcurrency` requests at a
 * time, and `flush()` sends whatever still waits. Fake timers drive the interval.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Id } from '../../src/protocol/ids.js';
import { MemoryLedger } from '../../src/runner/ledger.js';
import { memoryLogger } from '../helpers/runner.js';

/** A markRead that records calls and settles each one when told to. */
function recorder() {
  const calls: [Id, string][] = [];
  const gates: (() => void)[] = [];
  const markRead = (employmentId: Id, id: string) => {
    calls.push([employmentId, id]);
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  const settleAll = async () => {
    gates.splice(0).forEach((open) => open());
    await vi.advanceTimersByTimeAsync(0);
  };
  return { calls, markRead, settleAll };
}

describe('MemoryLedger acknowledgement pacing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('acknowledges a quiet employment at once, then a busy one once per interval with its newest id', async () => {
    const { calls, markRead, settleAll } = recorder();
    const ledger = new MemoryLedger({
      size: 100,
      logger: memoryLogger().logger,
      markRead,
      ackInterval: 1_000,
    });
    ledger.acknowledge(1, 'm1');
    expect(calls).toEqual([[1, 'm1']]);
    await settleAll();
    ledger.acknowledge(1, 'm2');
    ledger.acknowledge(1, 'm3');
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toEqual([[1, 'm1']]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([
      [1, 'm1'],
      [1, 'm3'],
    ]);
    await settleAll();
    // Nothing new: the employment is forgotten after its interval, and the next message is sent at once.
    await vi.advanceTimersByTimeAsync(1_000);
    ledger.acknowledge(1, 'm4');
    expect(calls.at(-1)).toEqual([1, 'm4']);
    await settleAll();
    await ledger.flush();
  });

  it('keeps at most ackConcurrency requests in flight and sends the waiting ones as slots free up', async () => {
    const { calls, markRead, settleAll } = recorder();
    const ledger = new MemoryLedger({
      size: 100,
      logger: memoryLogger().logger,
      markRead,
      ackInterval: 1_000,
      ackConcurrency: 2,
    });
    for (const employmentId of [1, 2, 3, 4]) ledger.acknowledge(employmentId, `m${employmentId}`);
    ledger.acknowledge(3, 'm3b');
    expect(calls).toEqual([
      [1, 'm1'],
      [2, 'm2'],
    ]);
    await settleAll();
    expect(calls.slice(2)).toEqual([
      [3, 'm3b'],
      [4, 'm4'],
    ]);
    await settleAll();
    await ledger.flush();
    expect(calls).toHaveLength(4);
  });

  it('flush() sends what waits for its interval at once and resolves when every request settled', async () => {
    const calls: [Id, string][] = [];
    const ledger = new MemoryLedger({
      size: 100,
      logger: memoryLogger().logger,
      markRead: async (employmentId, id) => {
        calls.push([employmentId, id]);
      },
      ackInterval: 60_000,
    });
    ledger.acknowledge(5, 'a');
    await vi.advanceTimersByTimeAsync(0);
    ledger.acknowledge(5, 'b');
    expect(calls).toEqual([[5, 'a']]);
    await ledger.flush();
    expect(calls).toEqual([
      [5, 'a'],
      [5, 'b'],
    ]);
  });

  it('with ackInterval 0 behaves as one request in flight per employment, skipping to the newest id', async () => {
    const { calls, markRead, settleAll } = recorder();
    const ledger = new MemoryLedger({ size: 100, logger: memoryLogger().logger, markRead, ackInterval: 0 });
    ledger.acknowledge(1, 'm1');
    ledger.acknowledge(1, 'm2');
    ledger.acknowledge(1, 'm3');
    expect(calls).toEqual([[1, 'm1']]);
    await settleAll();
    expect(calls).toEqual([
      [1, 'm1'],
      [1, 'm3'],
    ]);
    await settleAll();
    await ledger.flush();
  });

  it('treats an employment sent as a number and as a string as one, and sends back the form it first came in', async () => {
    const { calls, markRead, settleAll } = recorder();
    const ledger = new MemoryLedger({ size: 100, logger: memoryLogger().logger, markRead, ackInterval: 0 });
    ledger.acknowledge('7', 'm1');
    ledger.acknowledge(7, 'm2');
    ledger.acknowledge('007', 'm3');
    expect(calls).toEqual([['7', 'm1']]);
    await settleAll();
    expect(calls).toEqual([
      ['7', 'm1'],
      ['7', 'm3'],
    ]);
    await settleAll();
    await ledger.flush();
  });
});
