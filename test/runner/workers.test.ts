/**
 * `workers: n`: handlers run in worker threads, with the same `ctx` as in-process. Real threads
 * (piscina running the built dist/ worker), real handler files in a temp project, the embedded
 * platform over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import type { EventOutcome } from '../../src/runner/pipeline.js';
import { startPlatform, type MessageRecord, type Platform } from '../../src/platform/index.js';
import { C4cError } from '../../src/errors.js';
import { waitFor } from '../helpers/wait.js';
import { runAgent, type RunningAgent } from '../helpers/runner.js';

let platform: Platform;
const agents: RunningAgent[] = [];

async function agent(...args: Parameters<typeof runAgent> extends [Platform, ...infer Rest] ? Rest : never) {
  const running = await runAgent(platform, ...args);
  agents.push(running);
  return running;
}

function repliesFrom(p: Platform, agentId: number): MessageRecord[] {
  const replies: MessageRecord[] = [];
  p.on('message', (m) => {
    if (m.senderAgentId === agentId) replies.push(m);
  });
  return replies;
}

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await platform?.close();
});

describe('ctx in a worker thread', () => {
  it('runs the handler off the main thread; ctx.reply, ctx.api, ctx.state and ctx.log go through the main thread', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const outcomes: EventOutcome[] = [];
    const running = await agent(
      {
        'message.ts': `import { defineHandler } from 'c4c-runner';
import { threadId } from 'node:worker_threads';
export default defineHandler('message', async (ctx) => {
  ctx.log.child({ step: 'start' }).info({ thread: threadId }, 'working on ' + ctx.event.content);
  await ctx.reply('first, from thread ' + threadId);
  const employment = await ctx.api.employment(ctx.event.employmentId);
  const count = await ctx.state.update((n) => (n ?? 0) + 1);
  await ctx.state.set({ count, status: employment.status });
  const kept = await ctx.state.get();
  const before = await ctx.history({ limit: 5 });
  return JSON.stringify({ kept, history: before.length, aborted: ctx.signal.aborted, name: ctx.name });
});`,
      },
      { workers: 2 },
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    platform.sendMessage({ employmentId, content: 'one' });
    await waitFor(() => replies.length === 2, { message: 'two replies' });
    const thread = Number(/thread (\d+)/.exec(replies[0]!.content)?.[1]);
    expect(thread).not.toBe(threadId);
    expect(thread).toBeGreaterThan(0);
    expect(JSON.parse(replies[1]!.content)).toEqual({
      kept: { count: 1, status: 'active' },
      history: 0,
      aborted: false,
      name: 'message',
    });
    await waitFor(() => outcomes.length === 1);
    expect(outcomes[0]).toMatchObject({ kind: 'replied', file: 'handlers/message.ts' });
    // The line reached the main logger with the event's bindings and the child's.
    const line = running.lines.find((l) => l.msg === 'working on one');
    expect(line).toMatchObject({
      level: 30,
      event: 'message',
      employmentId,
      file: 'handlers/message.ts',
      step: 'start',
      thread,
    });
  });
});

describe('errors across the thread', () => {
  it('an error from ctx.api reaches the handler as its class, and a thrown error reaches the pipeline with its class, code and message', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const outcomes: EventOutcome[] = [];
    await agent(
      {
        'message.ts': `import { defineHandler, PlatformError, C4cError } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  if (ctx.event.content === 'throw') {
    const error = new C4cError('E_STATE', 'the store is gone', { details: { key: 'k' } });
    throw error;
  }
  if (ctx.event.content === 'plain') throw new RangeError('out of range');
  if (ctx.event.content === 'function') return () => 'a function cannot cross';
  try {
    await ctx.api.employment(987654);
    return 'no error?';
  } catch (error) {
    return JSON.stringify({ isPlatformError: error instanceof PlatformError, name: error.name, code: error.code, status: error.status, platformCode: error.platformCode });
  }
});`,
      },
      { workers: 1 },
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    platform.sendMessage({ employmentId, content: 'api' });
    await waitFor(() => replies.length === 1);
    expect(JSON.parse(replies[0]!.content)).toEqual({
      isPlatformError: true,
      name: 'PlatformError',
      code: 'E_PLATFORM',
      status: 404,
      platformCode: 'NOT_FOUND',
    });
    platform.sendMessage({ employmentId, content: 'throw' });
    platform.sendMessage({ employmentId, content: 'plain' });
    platform.sendMessage({ employmentId, content: 'function' });
    await waitFor(() => outcomes.length === 4);
    const [, thrown, plain, fn] = outcomes;
    expect(thrown).toMatchObject({ kind: 'failed' });
    expect(thrown!.error).toBeInstanceOf(C4cError);
    expect(thrown!.error).toMatchObject({
      name: 'C4cError',
      code: 'E_STATE',
      message: 'the store is gone',
      details: { key: 'k' },
    });
    // The stack is the worker's: it names the handler file.
    expect((thrown!.error as Error).stack).toContain('message.ts');
    expect(plain!.error).toBeInstanceOf(RangeError);
    expect(plain!.error).toMatchObject({ message: 'out of range' });
    expect(fn).toMatchObject({ kind: 'failed' });
    expect(fn!.error).toMatchObject({ code: 'E_WORKER' });
    expect((fn!.error as Error).message).toMatch(
      /the value .*message\.ts returned cannot leave the worker thread: .*plain data/,
    );
  });

  it('a RetryLaterError thrown in a worker is retried as in-process', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const outcomes: EventOutcome[] = [];
    const running = await agent(
      {
        'message.ts': `import { defineHandler, RetryLaterError } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  const tries = await ctx.state.update((n) => (n ?? 0) + 1);
  if (tries === 1) throw new RetryLaterError('not yet', { delay: 5 });
  return 'done after ' + tries;
});`,
      },
      { workers: 1, retry: { attempts: 3 } },
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    platform.sendMessage({ employmentId, content: 'x' });
    await waitFor(() => replies.length === 1);
    expect(replies[0]!.content).toBe('done after 2');
    await waitFor(() => outcomes.length === 2);
    expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'replied']);
    expect(outcomes[0]).toMatchObject({ retryInMs: 5 });
    expect(running.runner.stats).toMatchObject({ retried: 1, failed: 0 });
  });
});

describe('the pool', () => {
  it('a handler that ignores ctx.signal past its timeout times out, and its thread is terminated and replaced', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const outcomes: EventOutcome[] = [];
    const running = await agent(
      {
        'message.ts': `import { defineHandler } from 'c4c-runner';
import { threadId } from 'node:worker_threads';
export default defineHandler('message', {
  // Long enough for the replacement thread to start and compile this file within the next event's limit.
  timeout: 2_500,
  handle: async (ctx) => {
    if (ctx.event.content === 'forever') {
      ctx.log.info({ thread: threadId }, 'looping');
      for (;;) {}
    }
    return 'thread ' + threadId;
  },
});`,
      },
      // One thread: the next event can only run once the looping one is replaced.
      { workers: 1 },
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    platform.sendMessage({ employmentId, content: 'warm' });
    platform.sendMessage({ employmentId, content: 'forever' });
    await waitFor(() => running.logText().includes('terminated and replaced'), {
      message: 'the looping thread to be terminated',
    });
    // The only thread was the looping one: this can only be answered by its replacement.
    platform.sendMessage({ employmentId, content: 'next' });
    await waitFor(() => replies.length === 2, { message: 'the reply to the third message' });
    expect(outcomes.map((o) => o.kind)).toEqual(['replied', 'timed-out', 'replied']);
    expect(outcomes[1]!.error).toMatchObject({ code: 'E_HANDLER_TIMEOUT' });
    expect(replies[0]!.content).toBe(
      `thread ${String(running.lines.find((l) => l.msg === 'looping')?.thread)}`,
    );
    const looped = running.lines.find((l) => l.msg === 'looping')!.thread;
    expect(replies[1]!.content).toMatch(/^thread \d+$/);
    expect(replies[1]!.content).not.toBe(`thread ${String(looped)}`);
    expect(running.lines.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(
        /handlers\/message\.ts ignored ctx\.signal for \d+ ms after it was aborted; its worker thread is terminated and replaced/,
      ),
    );
    expect(running.runner.stats).toMatchObject({ timedOut: 1, handled: 2 });
  });

  it('a handler that honours ctx.signal sees it aborted in the worker when the main thread times it out', async () => {
    platform = await startPlatform();
    const { employmentId } = platform.world;
    const outcomes: EventOutcome[] = [];
    const running = await agent(
      {
        'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', {
  timeout: 200,
  handle: (ctx) => ctx.event.content === 'warm' ? 'warm' : new Promise((resolve, reject) => {
    ctx.signal.addEventListener('abort', () => {
      ctx.log.info({ code: ctx.signal.reason.code }, 'aborted in the worker');
      reject(ctx.signal.reason);
    });
  }),
});`,
      },
      { workers: 1 },
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    // The thread's first event loads (compiles) the file; the second one's 200 ms are all its own.
    platform.sendMessage({ employmentId, content: 'warm' });
    platform.sendMessage({ employmentId, content: 'wait' });
    await waitFor(() => running.lines.some((l) => l.msg === 'aborted in the worker'));
    expect(running.lines.find((l) => l.msg === 'aborted in the worker')).toMatchObject({
      code: 'E_HANDLER_TIMEOUT',
    });
    await waitFor(() => outcomes.length === 2);
    expect(outcomes.map((o) => o.kind)).toEqual(['replied', 'timed-out']);
    // It returned within the grace: its thread was not terminated.
    expect(running.logText()).not.toContain('terminated');
  });

  it('keeps per-employment order and the concurrency limit with workers', async () => {
    platform = await startPlatform({
      seed: {
        agents: [
          { id: 1, name: 'Employer', token: 'cl_test_employer' },
          { id: 2, name: 'Worker', token: 'cl_test_worker' },
        ],
        employments: Array.from({ length: 8 }, (_, i) => ({
          id: i + 1,
          employerAgentId: 1,
          employeeAgentId: 2,
          salary: '1',
        })),
      },
    });
    const replies = repliesFrom(platform, 2);
    const running = await agent(
      {
        // Earlier messages of an employment work longer: without per-employment order, replies would come back reversed.
        'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => {
  const n = Number(ctx.event.content.split('#')[1]);
  const end = Date.now() + (4 - n) * 4;
  while (Date.now() < end) {}
  return 're: ' + ctx.event.content;
});`,
      },
      { workers: 2, concurrency: 3 },
    );
    for (let n = 1; n <= 4; n++)
      for (let e = 1; e <= 8; e++) platform.sendMessage({ employmentId: e, content: `e${e}#${n}` });
    await waitFor(() => replies.length === 32, { timeout: 20_000, message: '32 replies' });
    for (let e = 1; e <= 8; e++) {
      expect(replies.filter((r) => r.employmentId === e).map((r) => r.content)).toEqual(
        [1, 2, 3, 4].map((n) => `re: e${e}#${n}`),
      );
    }
    expect(running.runner.stats.peakRunning).toBeLessThanOrEqual(3);
  });
});
