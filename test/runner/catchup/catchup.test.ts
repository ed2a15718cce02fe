/**
 * The orchestrator (CatchUp) alone, against a fake of the API client and a recording pipeline:
 * unread history before held live frames, history that cannot be read keeps its employment held,
 * an employment that is gone is released, a refused message makes its employment be read again
 * (through the catchUpNow seam), a new socket forgets the held list, missed notifications, and
 * on demand: a live message or a notification for an employment not reached yet makes it go first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../src/protocol/frames.js';
import { CatchUp, type CatchUpOptions } from '../../../src/runner/catchup/index.js';
import { fakeApi, refusal, type FakeApi } from '../../helpers/catchup-api.js';
import { memoryLogger } from '../../helpers/runner.js';
import { waitFor } from '../../helpers/wait.js';

const open: CatchUp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const live = (employmentId: number, messageId: string): ServerFrame => ({
  type: 'message',
  employmentId,
  messageId,
  timestamp: '2026-11-30T00:00:00Z',
  content: messageId,
});

interface Harness {
  catchUp: CatchUp;
  /** What the pipeline took, as `employment/messageId` (or the notification's messageId). */
  taken: string[];
  /** Refuse the next n frames (backlog full). */
  refuseNext(n: number): void;
  log: ReturnType<typeof memoryLogger>;
}

function harness(api: FakeApi, options: Partial<CatchUpOptions> = {}): Harness {
  const taken: string[] = [];
  let refuse = 0;
  const log = memoryLogger();
  const claims = new Set<string>();
  const catchUp = new CatchUp({
    api,
    accept: (frame) => {
      if (refuse > 0) {
        refuse--;
        return false;
      }
      const id = (frame as { messageId?: string }).messageId!;
      const key = frame.type === 'message' ? `${String(frame.employmentId)}/${id}` : id;
      if (claims.has(key)) return true; // a duplicate: taken, not run again
      claims.add(key);
      taken.push(key);
      return true;
    },
    claim: (key) => !claims.has(key) && Boolean(claims.add(key)),
    release: (key) => claims.delete(key),
    handles: (name) => name === 'message',
    waitForRoom: async () => {},
    logger: log.logger,
    retryDelay: 5,
    ...options,
  });
  open.push(catchUp);
  return { catchUp, taken, refuseNext: (n) => (refuse = n), log };
}

function gate(api: FakeApi): () => void {
  let open!: () => void;
  api.gate = new Promise<void>((resolve) => (open = resolve));
  return () => {
    api.gate = undefined;
    open();
  };
}

describe('CatchUp', () => {
  it('hands over unread history oldest first, then the live frames held meanwhile; afterwards live goes straight on', async () => {
    const api = fakeApi({ employments: [1, 2] });
    api.add(1, 'a');
    api.add(1, 'b');
    api.add(2, 'x');
    const { catchUp, taken } = harness(api);
    const release = gate(api);
    catchUp.run();
    expect(catchUp.pending).toBe(true);
    // Arrived live while the pass reads: c is also in history (stored before it was pushed).
    api.add(1, 'c');
    catchUp.deliver(live(1, 'c'));
    catchUp.deliver(live(2, 'y'));
    expect(taken).toEqual([]);
    release();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken.filter((k) => k.startsWith('1/'))).toEqual(['1/a', '1/b', '1/c']);
    expect(taken.filter((k) => k.startsWith('2/'))).toEqual(['2/x', '2/y']);
    expect(catchUp.stats).toMatchObject({ passes: 1, messages: 3, held: 2, failures: 0 });
    catchUp.deliver(live(1, 'd'));
    expect(taken.at(-1)).toBe('1/d');
  });

  it('history that cannot be read keeps the employment held (logged once), and a retry hands everything over in order', async () => {
    const api = fakeApi({ employments: [1, 2] });
    api.add(1, 'a');
    api.refuse.set(1, refusal(502, 'BAD_GATEWAY', 'the gateway answered 502'));
    const { catchUp, taken, log } = harness(api);
    catchUp.run();
    await waitFor(() => catchUp.stats.failures >= 2, { message: 'two failed tries' });
    catchUp.deliver(live(1, 'b'));
    catchUp.deliver(live(2, 'z'));
    // Employment 2 is not held up by employment 1.
    expect(taken).toEqual(['2/z']);
    expect(catchUp.pending).toBe(true);
    const warned = log.lines.filter((l) => String(l.msg).startsWith('could not catch up employment 1'));
    expect(warned.filter((l) => l.level === 40)).toHaveLength(1);
    api.add(1, 'b');
    api.refuse.delete(1);
    await waitFor(() => !catchUp.pending, { message: 'a retry that succeeds' });
    expect(taken).toEqual(['2/z', '1/a', '1/b']);
  });

  it('before the list of employments is known every live message is held; a list that cannot be read is retried', async () => {
    const api = fakeApi({ employments: [1] });
    api.refuse.set('list', new Error('502 from the gateway'));
    const { catchUp, taken } = harness(api);
    catchUp.run();
    await waitFor(() => catchUp.stats.failures >= 1, { message: 'a failed pass' });
    api.add(1, 'a');
    catchUp.deliver(live(1, 'a'));
    expect(taken).toEqual([]);
    api.refuse.delete('list');
    await waitFor(() => !catchUp.pending, { message: 'the retry' });
    // The retry is a new pass: it reads the message from history (the held copy was only a guide).
    expect(taken).toEqual(['1/a']);
    expect(catchUp.stats.messages).toBe(1);
  });

  it('a live message of an employment the list does not name (not active for the platform) goes on once the list is known', async () => {
    const api = fakeApi({ employments: [1] });
    const { catchUp, taken } = harness(api);
    const release = gate(api);
    catchUp.run();
    catchUp.deliver(live(9, 'elsewhere'));
    expect(taken).toEqual([]);
    release();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken).toEqual(['9/elsewhere']);
  });

  it('an employment that is gone (404) is released, not retried', async () => {
    const api = fakeApi({ employments: [1] });
    api.refuse.set(1, refusal(404, 'NOT_FOUND'));
    const { catchUp, taken } = harness(api);
    const release = gate(api);
    catchUp.run();
    catchUp.deliver(live(1, 'late'));
    release();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken).toEqual(['1/late']);
    expect(catchUp.stats.failures).toBe(0);
  });

  it('a live message the pipeline refuses holds its employment and reads it again from history: nothing skipped', async () => {
    const api = fakeApi({ employments: [1] });
    const { catchUp, taken, refuseNext } = harness(api);
    catchUp.run();
    await waitFor(() => !catchUp.pending, { message: 'the first pass' });
    api.add(1, 'a');
    refuseNext(1);
    catchUp.deliver(live(1, 'a'));
    // b arrives while the repair reads history: held, after a.
    api.add(1, 'b');
    catchUp.deliver(live(1, 'b'));
    await waitFor(() => taken.length === 2, { message: 'both taken' });
    expect(taken).toEqual(['1/a', '1/b']);
  });

  it('catchUpNow(employmentId) reads one employment again and hands over what is unread', async () => {
    const api = fakeApi({ employments: [1, 2] });
    const { catchUp, taken } = harness(api);
    catchUp.run();
    await waitFor(() => !catchUp.pending, { message: 'the first pass' });
    // Stored while no socket pushed them (the runner would not know without asking).
    api.add(2, 'quiet-1');
    api.add(2, 'quiet-2');
    const calls = api.calls.length;
    catchUp.catchUpNow(2);
    await waitFor(() => taken.length === 2, { message: 'the unread ones' });
    expect(taken).toEqual(['2/quiet-1', '2/quiet-2']);
    expect(api.calls.slice(calls)).toEqual(['messages:2']);
  });

  it('a new socket forgets what the old one held and reads it all from history (messages between the sockets included)', async () => {
    const api = fakeApi({ employments: [1] });
    api.add(1, 'a');
    const { catchUp, taken } = harness(api);
    const release = gate(api);
    catchUp.run();
    api.add(1, 'b');
    catchUp.deliver(live(1, 'b')); // held by the first socket's pass
    api.add(1, 'between'); // stored while there was no socket: never pushed
    api.add(1, 'c');
    catchUp.run(); // the new socket
    catchUp.deliver(live(1, 'c'));
    release();
    await waitFor(() => !catchUp.pending, { message: 'the second pass' });
    expect(taken).toEqual(['1/a', '1/b', '1/between', '1/c']);
  });

  it('synthesizes missed notifications when they have a handler; a live copy that comes later is dropped', async () => {
    const api = fakeApi({ employments: [] });
    api.pending.push({ id: 5, serviceId: 1 });
    const { catchUp, taken } = harness(api, { handles: (name) => name === 'service-invoked' });
    catchUp.run();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken).toEqual(['invocation:5']);
    expect(catchUp.stats.notifications).toBe(1);
    const liveCopy: ServerFrame = {
      type: 'notification',
      domain: 'service_invocation',
      event: 'service_invoked',
      messageId: 'n1',
      data: { invocationId: 5 },
    };
    expect(catchUp.filter(liveCopy)).toBe(true);
  });

  it('a live message on an employment the pass has not reached is caught up first, on demand, and the pass skips it', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => i + 1);
    const api = fakeApi({ employments: ids });
    for (const id of ids) api.add(id, `m${id}`);
    // The background walk of every employment but 10 waits until the test lets it on.
    let openBackground!: () => void;
    const background = new Promise<void>((resolve) => (openBackground = resolve));
    const asked: number[] = [];
    const read = api.messages.bind(api);
    api.messages = async (id, ...rest) => {
      asked.push(Number(id));
      if (id !== 10) await background;
      return read(id, ...rest);
    };
    const { catchUp, taken } = harness(api, { parallel: 2 });
    catchUp.run();
    await waitFor(() => asked.includes(2), { message: 'the pass at its second employment' });
    api.add(10, 'live');
    catchUp.deliver(live(10, 'live'));
    // A second one while the first one's job reads history: it joins that job (no second read).
    api.add(10, 'live2');
    catchUp.deliver(live(10, 'live2'));
    await waitFor(() => taken.includes('10/live2'), { message: 'the live messages answered' });
    // Its unread history first, then the live messages, while the pass is still at its start.
    expect(taken).toEqual(['10/m10', '10/live', '10/live2']);
    expect(catchUp.pending).toBe(true);
    openBackground();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken.slice(3)).toEqual(ids.slice(0, 9).map((id) => `${id}/m${id}`));
    // Walked once: the pass did not read employment 10 again.
    expect(api.calls.filter((c) => c === 'messages:10')).toHaveLength(1);
    catchUp.deliver(live(10, 'after'));
    expect(taken.at(-1)).toBe('10/after');
  });

  it('a live message while the list of employments is still being read is caught up on demand; the list does not hold it again', async () => {
    const api = fakeApi({ employments: [1, 2] });
    api.add(1, 'a');
    let openList!: () => void;
    const list = new Promise<void>((resolve) => (openList = resolve));
    const employments = api.employments.bind(api);
    api.employments = async (...args) => {
      await list;
      return employments(...args);
    };
    const { catchUp, taken } = harness(api);
    catchUp.run();
    await waitFor(() => api.calls.includes('me'), { message: 'the pass begun' });
    api.add(1, 'b');
    catchUp.deliver(live(1, 'b'));
    await waitFor(() => taken.length === 2, { message: 'employment 1 on demand' });
    expect(taken).toEqual(['1/a', '1/b']);
    // Caught up: its next live message goes straight on, though every other one is still held.
    catchUp.deliver(live(1, 'c'));
    catchUp.deliver(live(2, 'x'));
    expect(taken).toEqual(['1/a', '1/b', '1/c']);
    openList();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
    expect(taken).toEqual(['1/a', '1/b', '1/c', '2/x']);
    expect(api.calls.filter((c) => c === 'messages:1')).toHaveLength(1);
  });

  it('the pass starts on the first page of employments while later pages are still being read; a page that fails fails the pass, the listed ones are done', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    const api = fakeApi({ employments: ids });
    for (const id of ids) api.add(id, `m${id}`);
    let failedOnce = false;
    let openPage2!: () => void;
    const page2 = new Promise<void>((resolve) => (openPage2 = resolve));
    const employments = api.employments.bind(api);
    api.employments = async (q, ...rest) => {
      if ((q?.page ?? 1) > 1) {
        await page2;
        // The first try of page 2 fails; the retry (a new pass) reads the whole list again.
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('502 from the gateway');
        }
      }
      return employments(q, ...rest);
    };
    const { catchUp, taken } = harness(api);
    catchUp.run();
    // The hundred employments of page 1 are answered before page 2 is read.
    await waitFor(() => taken.length === 100, { message: 'page 1 caught up' });
    expect(taken).toEqual(ids.slice(0, 100).map((id) => `${id}/m${id}`));
    // Page 2's employments are held while the list is read; a live one goes on demand, in order.
    api.add(200, 'early');
    catchUp.deliver(live(200, 'early'));
    openPage2();
    await waitFor(() => !catchUp.pending, { message: 'the retried pass' });
    expect(catchUp.stats.failures).toBeGreaterThanOrEqual(1);
    // Each message once, in order per employment: 200's unread one before its live one.
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.filter((k) => k.startsWith('200/'))).toEqual(['200/m200', '200/early']);
    expect(taken).toHaveLength(251);
  });

  it('a notification naming an employment the pass has not reached makes it go first', async () => {
    const api = fakeApi({ employments: [1, 2, 3] });
    api.add(3, 'm');
    let openBackground!: () => void;
    const background = new Promise<void>((resolve) => (openBackground = resolve));
    const asked: number[] = [];
    const read = api.messages.bind(api);
    api.messages = async (id, ...rest) => {
      asked.push(Number(id));
      if (id !== 3) await background;
      return read(id, ...rest);
    };
    const { catchUp, taken } = harness(api, { parallel: 1 });
    catchUp.run();
    await waitFor(() => asked.includes(1), { message: 'the pass at its first employment' });
    catchUp.deliver({
      type: 'notification',
      domain: 'employment',
      event: 'employment_updated',
      messageId: 'n9',
      data: { employmentId: '3' },
    });
    await waitFor(() => taken.includes('3/m'), { message: 'employment 3 on demand' });
    expect(asked).toEqual([1, 3]);
    openBackground();
    await waitFor(() => !catchUp.pending, { message: 'the pass' });
  });

  it('close() stops: no pass runs after it, nothing is held, live frames are not taken by catch-up', async () => {
    const api = fakeApi({ employments: [1] });
    const { catchUp } = harness(api);
    api.refuse.set(1, new Error('down'));
    catchUp.run();
    await waitFor(() => catchUp.stats.failures >= 1, { message: 'a failure' });
    await catchUp.close();
    const passes = catchUp.stats.passes;
    catchUp.run();
    catchUp.catchUpNow(1);
    expect(catchUp.filter(live(1, 'x'))).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(catchUp.stats.passes).toBe(passes);
  });
});
