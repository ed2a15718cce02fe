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

describe('MemoryLedger dedupe window', () => {
  /** The window's rule, on two plain `Set`s: what the hash tables must answer exactly like. */
  function model(size: number) {
    let current = new Set<string>();
    let previous = new Set<string>();
    return {
      claim(id: string): boolean {
        if (current.has(id) || previous.has(id)) return false;
        if (current.size >= size) {
          previous = current;
          current = new Set();
        }
        current.add(id);
        return true;
      },
      release(id: string): void {
        current.delete(id);
        previous.delete(id);
      },
    };
  }

  it('answers every claim and release exactly like two generations of sets (random runs, releases included)', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n; // the low bits of this generator repeat too soon
    };
    for (const size of [1, 2, 3, 8, 100, 1500]) {
      const ledger = new MemoryLedger({ size, logger: memoryLogger().logger });
      const expected = model(size);
      // Few distinct ids, so that duplicates, evictions and released slots are common.
      const ids = Array.from({ length: size * 2 + 1 }, (_, i) => `employment:${i % 7}/msg_${i}`);
      for (let step = 0; step < 20_000; step++) {
        const id = ids[random(ids.length)]!;
        if (random(4) === 0) {
          ledger.release(id);
          expected.release(id);
        } else {
          expect(ledger.claim(id), `size ${size}, step ${step}, ${id}`).toBe(expected.claim(id));
        }
      }
    }
  });

  it('keeps ids whose hashes collide apart', () => {
    // These two share their 32-bit hash (found by search): only the comparison of the ids tells them apart.
    const ledger = new MemoryLedger({ size: 10, logger: memoryLogger().logger });
    expect(ledger.claim('employment:1/msg_52295')).toBe(true);
    expect(ledger.claim('employment:1/msg_81376')).toBe(true);
    expect(ledger.claim('employment:1/msg_52295')).toBe(false);
    expect(ledger.claim('employment:1/msg_81376')).toBe(false);
    ledger.release('employment:1/msg_52295');
    expect(ledger.claim('employment:1/msg_81376')).toBe(false);
    expect(ledger.claim('employment:1/msg_52295')).toBe(true);
  });

  it('stays correct when most claims are released (released slots never fill the table)', () => {
    const ledger = new MemoryLedger({ size: 50, logger: memoryLogger().logger });
    for (let i = 0; i < 100_000; i++) {
      expect(ledger.claim(`r${i}`)).toBe(true);
      if (i % 10 !== 0) ledger.release(`r${i}`);
    }
    expect(ledger.claim('r99990')).toBe(false); // kept (not released), and recent
    expect(ledger.claim('r99991')).toBe(true); // released
  });
});
