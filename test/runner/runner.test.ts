/**
 * The runner against the embedded platform, over real loopback sockets: handler files in a temp
 * project, config through loadConfig, the platform as the other party.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isC4cError } from '../../src/errors.js';
import type { EventOutcome } from '../../src/runner/pipeline.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import type { NotificationFrame } from '../../src/protocol/frames.js';
import { connect } from '../helpers/platform.js';
import { waitFor } from '../helpers/wait.js';
import { as, runAgent, type RunningAgent } from '../helpers/runner.js';

declare global {
  // Shared between a test and the handler files it writes (jiti loads them into this process).
  var __probe:
    | {
        inFlight: number;
        peak: number;
        log: string[];
        release?: () => void;
        gate?: Promise<void>;
        openGate?: () => void;
      }
    | undefined;
}

const ECHO_HANDLER = `export default async (ctx) => 'echo: ' + ctx.event.content;\n`;

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

function seedWith(employments: number) {
  return {
    agents: [
      { id: 1, name: 'Employer', token: 'cl_test_employer' },
      { id: 2, name: 'Worker', token: 'cl_test_worker' },
    ],
    employments: Array.from({ length: employments }, (_, i) => ({
      id: i + 1,
      employerAgentId: 1,
      employeeAgentId: 2,
      salary: '1',
    })),
    services: [{ id: 1, providerAgentId: 2, title: 'Upper', price: '1' }],
  };
}

beforeEach(() => {
  globalThis.__probe = { inFlight: 0, peak: 0, log: [] };
  const probe = globalThis.__probe;
  probe.gate = new Promise<void>((resolve) => (probe.openGate = resolve));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await platform?.close();
  globalThis.__probe = undefined;
});

describe('messages', () => {
  it('answers 50 employments, in order within each, with never more handlers in flight than the limit', async () => {
    platform = await startPlatform({ seed: seedWith(50) });
    const replies = repliesFrom(platform, 2);
    await agent(
      {
        // Earlier messages of an employment work longer than later ones: without per-employment
        // order, replies would come back reversed.
        'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  const probe = globalThis.__probe!;
  probe.inFlight++;
  probe.peak = Math.max(probe.peak, probe.inFlight);
  // The first handlers wait until the limit is reached, so the peak does not depend on timing.
  if (probe.inFlight >= 12) probe.openGate!();
  await probe.gate;
  const n = Number(ctx.event.content.split('#')[1]);
  await new Promise((resolve) => setTimeout(resolve, (4 - n) * 3));
  probe.inFlight--;
  return 're: ' + ctx.event.content;
});`,
      },
      // Above 10: every running handler listens to the shutdown signal, which must not look like a leak.
      { concurrency: 12 },
    );
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    for (let n = 1; n <= 4; n++) {
      for (let e = 1; e <= 50; e++) platform.sendMessage({ employmentId: e, content: `e${e}#${n}` });
    }
    await waitFor(() => replies.length === 200, { timeout: 20_000, message: '200 replies' });
    for (let e = 1; e <= 50; e++) {
      expect(replies.filter((r) => r.employmentId === e).map((r) => r.content)).toEqual(
        [1, 2, 3, 4].map((n) => `re: e${e}#${n}`),
      );
    }
    process.off('warning', onWarning);
    expect(globalThis.__probe!.peak).toBeLessThanOrEqual(12);
    expect(globalThis.__probe!.peak).toBe(12);
    expect(warnings).toEqual([]);
    // Each handled once (a message seen both live and in catch-up history counts as a duplicate, not twice).
    // The runner counts a reply once the platform has confirmed it, which can trail the platform seeing it:
    // wait for the figure, do not sample it.
    await waitFor(() => agents[0]!.runner.stats.replies >= 200, {
      message: 'the runner to count 200 replies',
    });
    expect(agents[0]!.runner.stats).toMatchObject({ handled: 200, replies: 200, failed: 0 });
  });

  it('marks each answered message read (the acknowledgement), and runs a redelivered message once', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const reads: string[] = [];
    platform.on('read', (r) => {
      if (r.readerAgentId === me.id) reads.push(r.lastReadMessageId);
    });
    const a = await agent({ 'message.ts': `export default (ctx) => 'got ' + ctx.event.content;` });
    const sent = platform.sendMessage({ employmentId, content: 'one' });
    await waitFor(() => reads.includes(sent.messageId), { message: 'the read receipt' });
    // The same frame again, as a reconnect or catch-up would deliver it.
    platform.push(me.id, {
      type: 'message',
      employmentId,
      messageId: sent.messageId,
      timestamp: sent.createdAt,
      content: 'one',
    });
    platform.sendMessage({ employmentId, content: 'two' });
    await waitFor(() => replies.length === 2);
    expect(replies.map((r) => r.content)).toEqual(['got one', 'got two']);
    expect(a.runner.stats.duplicates).toBe(1);
  });

  it('a handler that throws or hangs is logged with its event and file, and the next message is still answered', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const a = await agent({
      'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', { timeout: 300, handle: async (ctx) => {
  if (ctx.event.content === 'throw') throw new Error('kaput');
  if (ctx.event.content === 'hang') await new Promise(() => {}); // ignores ctx.signal on purpose
  return 'ok ' + ctx.event.content;
} });`,
    });
    platform.sendMessage({ employmentId, content: 'throw' });
    platform.sendMessage({ employmentId, content: 'hang' });
    platform.sendMessage({ employmentId, content: 'after' });
    await waitFor(() => replies.length === 1, { message: 'the reply after the failures' });
    expect(replies[0]!.content).toBe('ok after');
    const errors = a.lines.filter((l) => l.level === 50);
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'message',
        file: 'handlers/message.ts',
        msg: 'handlers/message.ts threw while handling "message": kaput (at handlers/message.ts:3:44)',
        at: 'handlers/message.ts:3:44',
        frame: expect.stringContaining(
          "> 3 |   if (ctx.event.content === 'throw') throw new Error('kaput');",
        ) as unknown,
      }),
      expect.objectContaining({
        event: 'message',
        file: 'handlers/message.ts',
        msg: 'handlers/message.ts timed out handling "message" after 300 ms; its ordering key is released',
      }),
    ]);
    expect(a.runner.stats).toMatchObject({ failed: 1, timedOut: 1, handled: 1 });
  });

  it('reports what became of each event to onOutcome: replied (with the action), no reply, failed, timed out', async () => {
    platform = await startPlatform();
    const { employmentId } = platform.world;
    const outcomes: EventOutcome[] = [];
    await agent(
      {
        'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', { timeout: 200, handle: async (ctx) => {
  if (ctx.event.content === 'throw') throw new Error('kaput');
  if (ctx.event.content === 'hang') await new Promise(() => {});
  if (ctx.event.content === 'quiet') return undefined;
  return 'ok';
} });`,
      },
      {},
      { runner: { onOutcome: (o) => outcomes.push(o) } },
    );
    for (const content of ['hi', 'quiet', 'throw', 'hang']) platform.sendMessage({ employmentId, content });
    await waitFor(() => outcomes.length === 4, { message: 'four outcomes' });
    expect(outcomes.map((o) => [o.kind, o.file, o.routed.name])).toEqual([
      ['replied', 'handlers/message.ts', 'message'],
      ['no-reply', 'handlers/message.ts', 'message'],
      ['failed', 'handlers/message.ts', 'message'],
      ['timed-out', 'handlers/message.ts', 'message'],
    ]);
    expect(outcomes[0]).toMatchObject({ value: 'ok', action: `message into employment ${employmentId}` });
    expect((outcomes[2]!.error as Error).message).toBe('kaput');
    expect(outcomes.every((o) => o.durationMs >= 0)).toBe(true);
  });

  it('a late ctx.send from a timed-out handler is refused, logged, and never crashes the process (even unawaited)', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const a = await agent({
      'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', { timeout: 50, handle: async (ctx) => {
  if (ctx.event.content !== 'late') return 'on time';
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  ctx.send(ctx.event.employmentId, 'too late'); // no await, on purpose
} });`,
    });
    platform.sendMessage({ employmentId, content: 'late' });
    const refused = await waitFor(() =>
      a.lines.find((l) => String(l.msg).startsWith('a message from handlers/message.ts was not sent')),
    );
    expect(refused.msg).toBe(
      'a message from handlers/message.ts was not sent: handlers/message.ts did not finish within 50 ms',
    );
    platform.sendMessage({ employmentId, content: 'next' });
    await waitFor(() => replies.length === 1);
    expect(replies.map((r) => r.content)).toEqual(['on time']);
  });

  it('an un-awaited failing ctx.api call is logged against its handler and event, never a crash; the message is answered', async () => {
    platform = await startPlatform({ seed: seedWith(2) });
    const replies = repliesFrom(platform, 2);
    const a = await agent(
      {
        'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  if (ctx.event.content === 'forgot') ctx.api.employment(424242); // no await, on purpose (404)
  if (ctx.event.content === 'caught') {
    await ctx.api.employment(424242).catch(() => undefined);
    try {
      await ctx.api.employment(424242);
    } catch {}
    await Promise.allSettled([ctx.api.employment(424242)]);
  }
  return 'echo: ' + ctx.event.content;
});`,
      },
      {},
      { token: 'cl_test_worker' },
    );
    const forgot = platform.sendMessage({ employmentId: 1, content: 'forgot' });
    platform.sendMessage({ employmentId: 1, content: 'caught' });
    platform.sendMessage({ employmentId: 2, content: 'other' });
    await waitFor(() => replies.length === 3, { message: 'three replies' });
    const line = await waitFor(() =>
      a.lines.find((l) => String(l.msg).startsWith('ctx.api.employment() from handlers/message.ts failed')),
    );
    expect(line).toMatchObject({
      level: 40,
      event: 'message',
      messageId: forgot.messageId,
      call: 'ctx.api.employment',
    });
    expect(String(line.msg)).toContain('was not awaited');
    // Only the one nobody observed is reported; the awaited-and-caught one is the handler's business.
    expect(a.lines.filter((l) => String(l.msg).includes('failed and was not awaited'))).toHaveLength(1);
    expect(replies.map((r) => r.content).sort()).toEqual(['echo: caught', 'echo: forgot', 'echo: other']);
    expect(a.runner.state).toBe('running');
  });

  it('two employments with the same client message id: both messages are answered (dedupe is per conversation)', async () => {
    platform = await startPlatform({
      seed: {
        agents: [
          { id: 1, name: 'Employer A', token: 'cl_test_employer_a' },
          { id: 2, name: 'Worker', token: 'cl_test_worker' },
          { id: 3, name: 'Employer B', token: 'cl_test_employer_b' },
        ],
        employments: [
          { id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
          { id: 2, employerAgentId: 3, employeeAgentId: 2, salary: '1' },
        ],
      },
    });
    const replies = repliesFrom(platform, 2);
    await agent({ 'message.ts': ECHO_HANDLER }, {}, { token: 'cl_test_worker' });
    const a = await connect(platform.wsUrl, 'cl_test_employer_a');
    const b = await connect(platform.wsUrl, 'cl_test_employer_b');
    try {
      a.send({ type: 'message', employmentId: 1, messageId: 'msg_1', content: 'from A' });
      await waitFor(() => replies.length === 1, { message: "A's reply" });
      b.send({ type: 'message', employmentId: 2, messageId: 'msg_1', content: 'from B' });
      await waitFor(() => replies.length === 2, { message: "B's reply" });
      expect(replies.map((r) => [r.employmentId, r.content])).toEqual([
        [1, 'echo: from A'],
        [2, 'echo: from B'],
      ]);
      // The same id again in one employment is still a duplicate (a redelivery): the platform drops it, and so would the runner.
      a.send({ type: 'message', employmentId: 1, messageId: 'msg_1', content: 'from A' });
      b.send({ type: 'message', employmentId: 2, messageId: 'msg_2', content: 'again' });
      await waitFor(() => replies.length === 3, { message: "B's second reply" });
      expect(replies[2]!.content).toBe('echo: again');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('logs a reply that does not fit its event, naming the file and what was wrong', async () => {
    platform = await startPlatform();
    const a = await agent({ 'message.ts': `export default () => ({ text: 'no content key' });` });
    platform.sendMessage({ employmentId: platform.world.employmentId, content: 'x' });
    const line = await waitFor(() => a.lines.find((l) => l.level === 50));
    expect(line.msg).toMatch(
      /^handlers\/message\.ts: returned \{"text":"no content key"\}, which is not a message reply \(expected a string or \{ content, metadata\? \}\)/,
    );
    expect((line.err as { code: string }).code).toBe('E_REPLY');
  });

  it('ctx.reply and ctx.send send extra messages; ctx.api calls the platform as the agent', async () => {
    platform = await startPlatform({ seed: seedWith(2) });
    const replies = repliesFrom(platform, 2);
    await agent({
      'message.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  const me = await ctx.api.me({ signal: ctx.signal });
  await ctx.reply('first, from ' + me.name);
  await ctx.send(2, { content: 'over there', metadata: { format: 'text' } });
  return 'last';
});`,
    });
    platform.sendMessage({ employmentId: 1, content: 'go' });
    await waitFor(() => replies.length === 3);
    expect(replies.map((r) => [r.employmentId, r.content])).toEqual([
      [1, 'first, from Worker'],
      [2, 'over there'],
      [1, 'last'],
    ]);
  });
});

describe('notifications', () => {
  it("task accepted → the handler's deliverable is submitted and the publisher sees task_submitted", async () => {
    platform = await startPlatform();
    const { employer, agent: me } = platform.world;
    const submitted: unknown[] = [];
    platform.on('notification', ({ agentId, frame }) => {
      if (agentId === employer.id && frame.event === 'task_submitted') submitted.push(frame.data);
    });
    await agent({
      'task-accepted.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('task-accepted', (ctx) => ({ content: 'translated: ' + ctx.event.data.taskTitle, notes: 'n' }));`,
    });
    const { taskId, applicationId } = await as(platform, employer.token).taskAcceptedFor(me.token, 'Page 7');
    await waitFor(() => submitted.length === 1, { message: 'task_submitted for the publisher' });
    expect(submitted[0]).toMatchObject({ taskId, applicationId });
    const submission = [...platform.state.submissions.values()].find(
      (s) => s.applicationId === applicationId,
    );
    expect(submission).toMatchObject({ content: 'translated: Page 7', notes: 'n' });
  });

  it("service invoked → the caller reads the handler's output; a throw or a hang submits failed; the next one still works", async () => {
    platform = await startPlatform();
    const { employer } = platform.world;
    const caller = as(platform, employer.token);
    const a = await agent({
      'service-invoked.ts': `import { defineHandler } from 'c4c-runner';
export default defineHandler('service-invoked', { timeout: 300, handle: async (ctx) => {
  const mode = ctx.event.data.input?.mode;
  if (mode === 'throw') throw new Error('cannot do ' + String(ctx.event.data.input?.text));
  if (mode === 'hang') await new Promise(() => {});
  if (mode === 'text') return 'plain';
  return { upper: String(ctx.event.data.input?.text).toUpperCase() };
} });`,
    });
    const ok = await caller.invoke(1, { text: 'hello' });
    const threw = await caller.invoke(1, { text: 'that', mode: 'throw' });
    const hung = await caller.invoke(1, { text: 'x', mode: 'hang' });
    const text = await caller.invoke(1, { mode: 'text' });
    const settled = async (id: number) => {
      const inv = await caller.invocation(id);
      return inv.status !== 'pending' ? inv : undefined;
    };
    expect(await waitFor(() => settled(ok))).toMatchObject({
      status: 'completed',
      output: { upper: 'HELLO' },
    });
    expect(await waitFor(() => settled(threw))).toMatchObject({ status: 'failed', error: 'cannot do that' });
    expect(await waitFor(() => settled(hung))).toMatchObject({
      status: 'failed',
      error: 'handlers/service-invoked.ts did not finish within 300 ms',
    });
    expect(await waitFor(() => settled(text))).toMatchObject({
      status: 'completed',
      output: { result: 'plain' },
    });
    const errors = a.lines.filter((l) => l.level === 50).map((l) => [l.event, l.file]);
    expect(errors).toEqual([
      ['service-invoked', 'handlers/service-invoked.ts'],
      ['service-invoked', 'handlers/service-invoked.ts'],
    ]);
  });

  it('a reply the platform refuses leaves the event unacknowledged: delivered again, it runs again', async () => {
    platform = await startPlatform();
    const { employer, agent: me } = platform.world;
    const frames: NotificationFrame[] = [];
    platform.on('notification', ({ agentId, frame }) => {
      if (agentId === me.id && frame.event === 'service_invoked') frames.push(frame);
    });
    const a = await agent({
      'service-invoked.ts': `export default async () => {
  const probe = globalThis.__probe!;
  probe.log.push('run');
  if (probe.log.length > 1) return { again: true };
  await new Promise<void>((resolve) => { probe.release = resolve; });
  return { ok: true };
};`,
    });
    const id = await as(platform, employer.token).invoke(1, { text: 'x' });
    await waitFor(() => globalThis.__probe!.release);
    platform.timeoutInvocation(id); // the platform will now refuse the result
    globalThis.__probe!.release!();
    await waitFor(() =>
      a.lines.find((l) =>
        String(l.msg).startsWith(
          'the reply of handlers/service-invoked.ts to "service-invoked" could not be sent',
        ),
      ),
    );
    globalThis.__probe!.release = undefined;
    expect(frames).toHaveLength(1);
    expect(frames[0]!.messageId).toEqual(expect.any(String));
    platform.push(me.id, frames[0]!); // a redelivery of the same notification
    await waitFor(() => globalThis.__probe!.log.length === 2, { message: 'the second run' });
    expect(a.runner.stats.duplicates).toBe(0);
  });

  it('employment offered → true accepts the offer', async () => {
    platform = await startPlatform();
    const { employer, agent: me } = platform.world;
    await agent({
      'employment-offered.ts': `export default (ctx) => ({ accept: true, message: 'glad to' });`,
    });
    const offer = await as(platform, employer.token).call<{ id: number }>(
      'POST',
      '/openapi/v1/agent/me/employments',
      { employeeAgentId: me.id, salary: 5 },
    );
    await waitFor(
      async () =>
        (
          await as(platform, employer.token).call<{ status: string }>(
            'GET',
            `/openapi/v1/agent/me/employments/${offer.id}`,
          )
        ).status === 'active',
    );
  });

  it('routes a notification without its own handler to notification.ts; with neither, drops it at debug', async () => {
    platform = await startPlatform();
    const { agent: me } = platform.world;
    const a = await agent({
      'notification.ts': `export default (ctx) => { globalThis.__probe!.log.push(ctx.name + ':' + ctx.event.event); };`,
      'task-cancelled.ts': `export default (ctx) => { globalThis.__probe!.log.push('own:' + ctx.event.data.reason); };`,
      'read.ts': `export default () => undefined;`,
    });
    platform.notify(me.id, 'task-completed', { taskTitle: 't', taskId: 4 });
    platform.notify(me.id, 'task-cancelled', { taskTitle: 't', taskId: 5, reason: 'budget' });
    platform.push(me.id, { type: 'notification', domain: 'future', event: 'something_new', data: { x: 1 } });
    await waitFor(() => globalThis.__probe!.log.length === 3);
    expect(globalThis.__probe!.log.sort()).toEqual([
      'notification:something_new',
      'notification:task_completed',
      'own:budget',
    ]);
    platform.push(me.id, { type: 'error', code: 'NOT_FOUND', message: 'nothing' });
    await waitFor(() =>
      a.lines.find((l) => l.msg === 'no handler for "error"; event dropped' && l.level === 20),
    );
  });
});

describe('lifecycle', () => {
  it('a bad token: start rejects with "authentication failed", and nothing retries', async () => {
    platform = await startPlatform();
    let refused = 0;
    platform.on('unauthorized', () => refused++);
    const a = await agent(
      { 'message.ts': `export default () => 'x';` },
      {},
      { token: 'cl_wrong', start: false },
    );
    const error = await a.runner.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isC4cError(error, 'E_AUTH')).toBe(true);
    expect((error as Error).message).toMatch(/^authentication failed/);
    expect(a.runner.state).toBe('closed');
    expect(a.runner.stats.connection).toBe('closed');
    expect(refused).toBe(1);
    expect(a.logText()).not.toContain('cl_wrong');
  });

  it('no token: start rejects before any connection', async () => {
    platform = await startPlatform();
    const a = await agent({ 'message.ts': `export default () => 'x';` }, {}, { token: '', start: false });
    await expect(a.runner.start()).rejects.toThrow(
      /^no API token: set C4C_API_TOKEN, or platform\.token in c4c\.config\.ts, or api_token in ~\/\.c4c\/config\.json/,
    );
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('a misnamed handler file fails start before connecting', async () => {
    platform = await startPlatform();
    const a = await agent({ 'mesage.ts': `export default () => 'x';` }, {}, { start: false });
    await expect(a.runner.start()).rejects.toThrow(
      'handlers/mesage.ts: no event is called "mesage"; did you mean "message"?',
    );
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('a handler file that does not load fails start with its own error; the socket opened meanwhile is closed', async () => {
    platform = await startPlatform();
    const a = await agent(
      { 'message.ts': `throw new Error('no key for the model');\nexport default () => 'x';\n` },
      {},
      { start: false },
    );
    await expect(a.runner.start()).rejects.toThrow(
      /^handlers\/message\.ts.*could not be loaded.*no key for the model/,
    );
    expect(a.runner.state).toBe('closed');
    expect(a.runner.stats.connection).toBe('closed');
    await waitFor(() => platform.stats.connectedAgents().length === 0, {
      message: 'the early socket to close',
    });
  });

  it('a broken handler and a bad token: the handler error comes first, as it did before the socket opened early', async () => {
    platform = await startPlatform();
    const a = await agent(
      { 'message.ts': `export default (ctx) => {` },
      {},
      { token: 'cl_wrong', start: false },
    );
    const error = await a.runner.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isC4cError(error, 'E_HANDLER_LOAD')).toBe(true);
    expect((error as Error).message).toMatch(/^handlers\/message\.ts.*could not be loaded/);
  });

  it('frames that arrive while the handlers load wait for them, in order, and are each handled once', async () => {
    platform = await startPlatform();
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    const a = await agent(
      {
        // Top-level await: the module (and so the start) is not done loading until the test says so.
        'message.ts': `await globalThis.__probe.gate;\nexport default async (ctx) => { globalThis.__probe.log.push(ctx.event.content); return 'echo: ' + ctx.event.content; };\n`,
      },
      // No acknowledgements, so no catch-up: the pushed frames are the only way these messages arrive.
      { ack: false },
      { start: false },
    );
    const connected = new Promise<void>((resolve) => platform.on('connection', () => resolve()));
    const started = a.runner.start();
    await connected;
    const sent = ['one', 'two', 'three'].map((content) => platform.sendMessage({ employmentId, content }));
    expect(sent).toHaveLength(3);
    // A malformed frame after them: once the runner logs it, the three before it have arrived too
    // (one socket, in order), while the handler file is still loading.
    platform.push(me.id, 'not json');
    await waitFor(() => a.logText().includes('dropped a malformed frame'), {
      message: 'the marker frame to arrive',
    });
    expect(globalThis.__probe!.log).toEqual([]);
    expect(a.runner.state).toBe('starting');
    globalThis.__probe!.openGate!();
    await started;
    await waitFor(() => replies.length === 3, { message: 'three replies' });
    expect(globalThis.__probe!.log).toEqual(['one', 'two', 'three']);
    expect(replies.map((r) => r.content)).toEqual(['echo: one', 'echo: two', 'echo: three']);
  });

  it('reconnects after the platform drops every connection, and answers again', async () => {
    platform = await startPlatform({ faults: true });
    const { employmentId, agent: me } = platform.world;
    const replies = repliesFrom(platform, me.id);
    let connections = 0;
    platform.on('connection', () => connections++);
    await agent(
      { 'message.ts': `export default (ctx) => 'back: ' + ctx.event.content;` },
      { reconnect: { initialDelay: 20, maxDelay: 100 } },
    );
    await waitFor(() => connections === 1);
    platform.faults.dropConnections();
    await waitFor(() => connections === 2, { message: 'a second connection' });
    platform.sendMessage({ employmentId, content: 'hi' });
    await waitFor(() => replies.length === 1);
    expect(replies[0]!.content).toBe('back: hi');
  });

  it('reconnects on the configured schedule, and gives up after reconnect.maxAttempts: done rejects with E_NETWORK', async () => {
    platform = await startPlatform();
    const a = await agent(
      { 'message.ts': `export default () => 'x';` },
      { reconnect: { initialDelay: 8, maxDelay: 20, maxAttempts: 4 } },
    );
    await platform.close(); // the platform is gone: every try is refused
    const error = await a.runner.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isC4cError(error, 'E_NETWORK')).toBe(true);
    expect((error as Error).message).toMatch(
      /could not connect to the platform at .*: gave up after 4 reconnect attempt\(s\)/,
    );
    // Each delay drawn from the configured ceilings: random(0, min(maxDelay, initialDelay × 2^(n−1))).
    const retries = a.lines.filter(
      (l) => typeof l.delay === 'number' && typeof l.attempt === 'number' && l.level === 40,
    );
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3, 4]);
    retries.forEach((l) =>
      expect(l.delay).toBeLessThanOrEqual(Math.min(20, 8 * 2 ** ((l.attempt as number) - 1))),
    );
    expect(a.runner.state).toBe('closed');
  });

  it('close: a running handler finishes within the drain; one that outlasts it sees ctx.signal abort; close is safe twice', async () => {
    platform = await startPlatform({ seed: seedWith(2) });
    const replies = repliesFrom(platform, 2);
    const a = await agent({
      'message.ts': `export default async (ctx) => {
  const probe = globalThis.__probe!;
  probe.log.push('start ' + ctx.event.content);
  if (ctx.event.content === 'quick') { await new Promise((r) => setTimeout(r, 20)); return 'done quick'; }
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  probe.log.push('aborted: ' + ctx.signal.reason.message);
};`,
    });
    platform.sendMessage({ employmentId: 1, content: 'slow' });
    platform.sendMessage({ employmentId: 2, content: 'quick' });
    await waitFor(() => globalThis.__probe!.log.length === 2);
    const first = a.runner.close({ drainTimeout: 200 });
    const second = a.runner.close();
    await Promise.all([first, second]);
    expect(replies.map((r) => r.content)).toEqual(['done quick']);
    expect(globalThis.__probe!.log).toContain('aborted: the runner is shutting down');
    expect(a.runner.state).toBe('closed');
    expect(a.runner.stats.aborted).toBe(1);
    await a.runner.done;
  });
});
