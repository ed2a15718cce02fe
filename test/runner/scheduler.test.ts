import type { Id } from '../../src/protocol/ids.js';
import { describe, expect, it } from 'vitest';
import { isC4cError } from '../../src/errors.js';
import { MemoryLedger } from '../../src/runner/ledger.js';
import { HOLD, Scheduler, type TaskHandle } from '../../src/runner/scheduler.js';
import { memoryLogger } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Scheduler', () => {
  it('waitForRoom resolves once fewer jobs wait than asked, without polling; at once on abort or close', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const gate = deferred();
    scheduler.schedule('a', () => gate.promise);
    for (let i = 0; i < 3; i++) scheduler.schedule('b', async () => {});
    expect(scheduler.stats.waiting).toBe(3);
    let roomFor2 = false;
    const two = scheduler.waitForRoom(2).then(() => (roomFor2 = true));
    await scheduler.waitForRoom(4); // already so
    await new Promise<void>((r) => setImmediate(r));
    expect(roomFor2).toBe(false);
    const aborted = new AbortController();
    const cut = scheduler.waitForRoom(1, aborted.signal);
    aborted.abort();
    await cut;
    gate.resolve();
    await two;
    expect(scheduler.stats.waiting).toBeLessThan(2);
    await scheduler.onIdle();
    scheduler.schedule('c', () => new Promise(() => {}));
    scheduler.schedule('c', async () => {});
    const closing = scheduler.waitForRoom(1);
    void scheduler.close(0);
    await closing;
  });

  it('never runs more jobs than the limit, and runs them all', async () => {
    const scheduler = new Scheduler({ concurrency: 3, backlog: 1_000 });
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 60; i++) {
      scheduler.schedule(`k${i % 10}`, async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => setImmediate(r));
        running--;
        done++;
      });
    }
    await scheduler.onIdle();
    expect(done).toBe(60);
    expect(peak).toBe(3);
    expect(scheduler.stats.peak).toBe(3);
  });

  it('runs jobs of one key one at a time in arrival order, without blocking other keys', async () => {
    const scheduler = new Scheduler({ concurrency: 4, backlog: 100 });
    const order: string[] = [];
    const gate = deferred();
    scheduler.schedule('a', async () => {
      order.push('a1 start');
      await gate.promise;
      order.push('a1 end');
    });
    scheduler.schedule('a', async () => void order.push('a2'));
    scheduler.schedule('a', async () => void order.push('a3'));
    const bDone = deferred();
    scheduler.schedule('b', async () => {
      order.push('b1');
      bDone.resolve();
    });
    scheduler.schedule(undefined, async () => void order.push('free'));
    await bDone.promise; // b ran while a1 was still blocked
    expect(order).toContain('b1');
    expect(order).not.toContain('a2');
    gate.resolve();
    await scheduler.onIdle();
    expect(order.filter((x) => x.startsWith('a'))).toEqual(['a1 start', 'a1 end', 'a2', 'a3']);
  });

  it('a job that resolves { after } frees its slot at once and keeps its key until `after` settles', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const proof = deferred();
    const order: string[] = [];
    scheduler.schedule('a', async () => {
      order.push('a1');
      return { after: proof.promise };
    });
    scheduler.schedule('a', async () => void order.push('a2'));
    scheduler.schedule('b', async () => void order.push('b1'));
    await waitFor(() => order.includes('b1'));
    expect(order).toEqual(['a1', 'b1']);
    expect(scheduler.stats.running).toBe(0);
    let idle = false;
    const idling = scheduler.onIdle().then(() => (idle = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(idle).toBe(false); // a key still held is not idle
    proof.resolve();
    await idling;
    expect(order).toEqual(['a1', 'b1', 'a2']);
  });

  it('a job that returns nothing ends by finish(); HOLD frees its slot and keeps its key until unhold()', () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const order: string[] = [];
    let first: TaskHandle | undefined;
    scheduler.schedule('a', (task) => {
      order.push('a1');
      first = task;
    });
    scheduler.schedule('a', (task) => {
      order.push('a2');
      scheduler.finish(task, undefined);
    });
    scheduler.schedule('b', (task) => {
      order.push('b1');
      scheduler.finish(task, undefined);
    });
    // a1 runs and has not finished: its slot is taken, nothing else starts.
    expect(order).toEqual(['a1']);
    expect(scheduler.stats.running).toBe(1);
    scheduler.unhold(first!); // not held yet: ignored
    scheduler.finish(first!, HOLD);
    // The slot went to b1 synchronously; a2 waits for the key.
    expect(order).toEqual(['a1', 'b1']);
    expect(scheduler.stats.running).toBe(0);
    scheduler.finish(first!, undefined); // a second finish: ignored
    expect(order).toEqual(['a1', 'b1']);
    scheduler.unhold(first!);
    expect(order).toEqual(['a1', 'b1', 'a2']);
    scheduler.unhold(first!); // a second unhold: ignored
    expect(scheduler.stats).toMatchObject({ running: 0, waiting: 0 });
  });

  it('close waits for a key held by HOLD until unhold()', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    let held: TaskHandle | undefined;
    scheduler.schedule('a', (task) => {
      held = task;
      scheduler.finish(task, HOLD);
    });
    let closed = false;
    const closing = scheduler.close(60_000).then((result) => {
      closed = true;
      return result;
    });
    await new Promise<void>((r) => setImmediate(r));
    expect(closed).toBe(false);
    scheduler.unhold(held!);
    await expect(closing).resolves.toMatchObject({ drained: true });
  });

  it('close waits for a held key within the drain timeout, then aborts the shutdown signal', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    scheduler.schedule('a', async () => ({
      after: new Promise<void>((resolve) =>
        scheduler.shutdownSignal.addEventListener('abort', () => resolve()),
      ),
    }));
    await waitFor(() => scheduler.stats.running === 0);
    const result = await scheduler.close(5);
    expect(result.drained).toBe(false);
    expect(scheduler.shutdownSignal.aborted).toBe(true);
  });

  it('starts a job synchronously when its key is idle and a slot is free', () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const ran: string[] = [];
    scheduler.schedule('a', async () => void ran.push('a'));
    expect(ran).toEqual(['a']);
    scheduler.schedule('b', async () => void ran.push('b'));
    expect(ran).toEqual(['a']); // no slot: it waits
  });

  it('a job that rejects does not stop its key', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const seen: number[] = [];
    scheduler.schedule('k', () => Promise.reject(new Error('boom')));
    scheduler.schedule('k', async () => void seen.push(2));
    await scheduler.onIdle();
    expect(seen).toEqual([2]);
  });

  it('refuses jobs beyond the backlog with E_BACKLOG, and takes them again once it drains', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 2 });
    const gate = deferred();
    scheduler.schedule('k', () => gate.promise); // starts at once: not waiting
    await waitFor(() => scheduler.stats.running === 1);
    scheduler.schedule('k', async () => {});
    scheduler.schedule('k', async () => {});
    let error: unknown;
    try {
      scheduler.schedule('k', async () => {});
    } catch (e) {
      error = e;
    }
    expect(isC4cError(error, 'E_BACKLOG')).toBe(true);
    expect((error as Error).message).toMatch(
      /2 events are already waiting \(backlog limit 2\); raise "backlog" or "concurrency"/,
    );
    gate.resolve();
    await scheduler.onIdle();
    expect(() => scheduler.schedule('k', async () => {})).not.toThrow();
    await scheduler.onIdle();
  });

  it('close: lets running jobs finish, drops waiting ones, refuses new ones; safe twice', async () => {
    const scheduler = new Scheduler({ concurrency: 1, backlog: 10 });
    const gate = deferred();
    const ran: string[] = [];
    scheduler.schedule('k', async () => {
      await gate.promise;
      ran.push('first');
    });
    scheduler.schedule('k', async () => void ran.push('second'));
    scheduler.schedule(undefined, async () => void ran.push('third'));
    await waitFor(() => scheduler.stats.running === 1);
    const closing = scheduler.close(60_000);
    gate.resolve();
    expect(await closing).toEqual({ drained: true, dropped: 2 });
    expect(ran).toEqual(['first']);
    expect(scheduler.shutdownSignal.aborted).toBe(false);
    expect(() => scheduler.schedule('k', async () => {})).toThrow(/shutting down/);
    expect((await scheduler.close(0)).drained).toBe(true);
  });

  it('close: aborts the shutdown signal when running jobs outlast the drain timeout', async () => {
    const scheduler = new Scheduler({ concurrency: 2, backlog: 10 });
    let sawAbort = false;
    scheduler.schedule(
      'k',
      (): Promise<void> =>
        new Promise((resolve) => {
          scheduler.shutdownSignal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        }),
    );
    await waitFor(() => scheduler.stats.running === 1);
    const result = await scheduler.close(5);
    expect(result.drained).toBe(false);
    expect(sawAbort).toBe(true);
    expect(scheduler.stats.running).toBe(0);
  });
});

describe('MemoryLedger', () => {
  it('claims an id once, remembers the last `size` ids (up to twice that), and releases on demand', () => {
    const ledger = new MemoryLedger({ size: 3, logger: memoryLogger().logger });
    expect(ledger.claim('a')).toBe(true);
    expect(ledger.claim('a')).toBe(false);
    ledger.claim('b');
    ledger.claim('c');
    ledger.claim('d'); // the newest generation (a, b, c) was full: it is the older one now
    expect(ledger.claim('a')).toBe(false);
    ledger.claim('e');
    ledger.claim('f');
    ledger.claim('g'); // (d, e, f) becomes the older generation; (a, b, c) is forgotten
    expect(ledger.claim('a')).toBe(true);
    expect(ledger.claim('g')).toBe(false);
    ledger.release('g');
    expect(ledger.claim('g')).toBe(true);
  });

  it('an id released and claimed again is remembered for at least a whole window from its new claim', () => {
    const ledger = new MemoryLedger({ size: 3, logger: memoryLogger().logger });
    ledger.claim('a');
    ledger.release('a');
    expect(ledger.claim('a')).toBe(true);
    ledger.claim('m0');
    ledger.claim('m1');
    expect(ledger.claim('a')).toBe(false);
    for (const id of ['m2', 'm3', 'm4']) ledger.claim(id); // 3 claims after its own: still remembered
    expect(ledger.claim('a')).toBe(false);
    ledger.claim('m5');
    expect(ledger.claim('a')).toBe(true);
    for (let i = 0; i < 10_000; i++) ledger.claim(`n${i}`);
    for (const id of ['n9999', 'n9998', 'n9997']) expect(ledger.claim(id)).toBe(false);
    expect(ledger.claim('n9990')).toBe(true);
  });

  it('acknowledges per employment with one request in flight, skipping to the newest id', async () => {
    const calls: [Id, string][] = [];
    const gates: (() => void)[] = [];
    const ledger = new MemoryLedger({
      size: 100,
      logger: memoryLogger().logger,
      ackInterval: 0,
      markRead: (employmentId, id) => {
        calls.push([employmentId, id]);
        return new Promise<void>((resolve) => gates.push(resolve));
      },
    });
    ledger.acknowledge(1, 'm1');
    ledger.acknowledge(1, 'm2');
    ledger.acknowledge(1, 'm3');
    ledger.acknowledge(2, 'x1');
    expect(calls).toEqual([
      [1, 'm1'],
      [2, 'x1'],
    ]);
    gates.shift()!();
    await waitFor(() => calls.length === 3);
    expect(calls[2]).toEqual([1, 'm3']);
    gates.splice(0).forEach((g) => g());
    await ledger.flush();
    expect(calls).toHaveLength(3);
  });

  it('logs a failed acknowledgement and goes on', async () => {
    const { logger, lines } = memoryLogger();
    const ledger = new MemoryLedger({
      size: 10,
      logger,
      markRead: () => Promise.reject(new Error('HTTP 500')),
    });
    ledger.acknowledge(7, 'm1');
    await ledger.flush();
    expect(lines.find((l) => l.level === 40)).toMatchObject({
      employmentId: 7,
      messageId: 'm1',
      msg: expect.stringContaining('could not mark the message read'),
    });
  });
});
