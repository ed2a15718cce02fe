/**
 * Nothing lost: what arrives while the runner is not running, or between two sockets, is caught up
 * from history — in order per employment, interleaved correctly with live messages, exactly once —
 * and a message handled twice (a crash between reply and acknowledgement) is still answered once.
 * The runner in-process, the embedded platform over real loopback sockets.
 */
import { createServer, request } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/log.js';
import type { UserConfig } from '../../src/config/schema.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import { MemoryLedger } from '../../src/runner/ledger.js';
import { replyMessageId } from '../../src/runner/reply-ids.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { waitFor } from '../helpers/wait.js';
import {
  as,
  makeProject,
  memoryLogger,
  runAgent,
  type Project,
  type RunningAgent,
} from '../helpers/runner.js';

declare global {
  // Lets a test release a handler it holds (jiti loads handler files into this process).
  var __release: (() => void) | undefined;
}

const EMPLOYER = { id: 1, name: 'Employer', token: 'cl_rel_employer' };
const WORKER = { id: 2, name: 'Worker', token: 'cl_rel_worker' };
const CONTRACTOR = { id: 3, name: 'Contractor', token: 'cl_rel_contractor' };

/** The worker is employee of 1 and 2 and employer of 3 (its contractor writes to it there). */
const seed = {
  agents: [EMPLOYER, WORKER, CONTRACTOR],
  employments: [
    { id: 1, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
    { id: 2, employerAgentId: 1, employeeAgentId: 2, salary: '1' },
    { id: 3, employerAgentId: 2, employeeAgentId: 3, salary: '1' },
    { id: 4, employerAgentId: 1, employeeAgentId: 2, salary: '1', status: 'terminated' as const },
  ],
  services: [{ id: 1, providerAgentId: 2, title: 'Upper', price: '1' }],
};

const ECHO = `export default async (ctx) => 'echo: ' + ctx.event.content;\n`;

let platform: Platform;
const agents: RunningAgent[] = [];
const cleanup: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  for (const step of cleanup.splice(0).reverse()) await step();
  await platform?.close();
});

async function agent(handlers: Record<string, string>, config: UserConfig = {}) {
  const running = await runAgent(
    platform,
    handlers,
    { reconnect: { initialDelay: 20, maxDelay: 200 }, ...config },
    { token: WORKER.token },
  );
  agents.push(running);
  return running;
}

/** Every message the worker stores on the platform, as it is stored (duplicates are never stored). */
function repliesOf(p: Platform): MessageRecord[] {
  const replies: MessageRecord[] = [];
  p.on('message', (m) => {
    if (m.senderAgentId === WORKER.id) replies.push(m);
  });
  return replies;
}

/** Message frames the worker's sockets wrote, counted by messageId (a repeat is a suppressed duplicate). */
function framesOf(p: Platform): Map<string, number> {
  const seen = new Map<string, number>();
  p.on('frame', ({ agentId, frame }) => {
    if (agentId === WORKER.id && frame.type === 'message' && frame.messageId)
      seen.set(frame.messageId, (seen.get(frame.messageId) ?? 0) + 1);
  });
  return seen;
}

const contents = (replies: MessageRecord[], employmentId: number) =>
  replies.filter((r) => r.employmentId === employmentId).map((r) => r.content);
const unread = (employmentId: number) =>
  platform.state.messagesOf(employmentId).filter((m) => m.receiverAgentId === WORKER.id && !m.readAt).length;

describe('catch-up', () => {
  it('answers, in order and once, what arrived while the runner was not running — as employee and as employer', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    for (let i = 1; i <= 30; i++) {
      platform.sendMessage({ employmentId: 1, content: `a${i}` });
      platform.sendMessage({ employmentId: 3, content: `c${i}`, from: CONTRACTOR.id });
    }
    platform.sendMessage({ employmentId: 2, content: 'b1' });

    const running = await agent({ 'message.ts': ECHO });
    await waitFor(() => replies.length === 61, { message: '61 replies' });
    expect(contents(replies, 1)).toEqual(Array.from({ length: 30 }, (_, i) => `echo: a${i + 1}`));
    expect(contents(replies, 3)).toEqual(Array.from({ length: 30 }, (_, i) => `echo: c${i + 1}`));
    expect(contents(replies, 2)).toEqual(['echo: b1']);
    expect(running.runner.stats.catchUp).toMatchObject({
      passes: 1,
      messages: 61,
      notifications: 0,
      failures: 0,
    });
    await running.stop();
    agents.length = 0;
    // The acknowledgements were flushed on close: nothing is left unread.
    expect([unread(1), unread(2), unread(3)]).toEqual([0, 0, 0]);
    expect(replies).toHaveLength(61);
  });

  it('pages back through history only to the read cursor', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    for (let i = 1; i <= 250; i++) platform.sendMessage({ employmentId: 1, content: `old${i}` });
    // Read up to old200: only the 50 after it are the runner's to answer, across three history pages.
    const old200 = platform.state.messagesOf(1)[199]!;
    await as(platform, WORKER.token).call('POST', `/openapi/v1/agent/me/employments/1/messages/read`, {
      lastReadMessageId: old200.messageId,
    });
    const running = await agent({ 'message.ts': ECHO });
    await waitFor(() => replies.length === 50, { message: '50 replies' });
    expect(contents(replies, 1)).toEqual(Array.from({ length: 50 }, (_, i) => `echo: old${i + 201}`));
    expect(running.runner.stats.duplicates).toBe(0);
  });

  it('a flood while away (more unread than it keeps in memory) is read page by page, oldest first, once', async () => {
    const platformLog = memoryLogger('debug');
    platform = await startPlatform({ seed, logger: platformLog.logger });
    const replies = repliesOf(platform);
    // 2,600 unread in one employment (27 history pages), the worker's own messages between them.
    for (let i = 1; i <= 2_600; i++) {
      platform.sendMessage({ employmentId: 2, content: `f${i}` });
      if (i % 100 === 0) platform.sendMessage({ employmentId: 2, content: `mine ${i}`, from: WORKER.id });
    }
    const running = await agent({ 'message.ts': ECHO }, { concurrency: 4 });
    await waitFor(() => replies.filter((r) => r.content.startsWith('echo:')).length === 2_600, {
      timeout: 30_000,
      message: '2,600 replies',
    });
    expect(contents(replies, 2).filter((c) => c.startsWith('echo:'))).toEqual(
      Array.from({ length: 2_600 }, (_, i) => `echo: f${i + 1}`),
    );
    expect(running.runner.stats).toMatchObject({ duplicates: 0, refused: 0 });
    // Only the newest ~1,000 unread were kept on the way back: the older pages were read a second time.
    const historyCalls = platformLog.lines.filter(
      (l) =>
        l.msg === 'request' && l.method === 'GET' && l.path === '/openapi/v1/agent/me/employments/2/messages',
    ).length;
    expect(historyCalls).toBeGreaterThan(27);
    expect(historyCalls).toBeLessThanOrEqual(2 * 27);
  });

  it('answers what arrived during a disconnect after the reconnect, in order, once', async () => {
    platform = await startPlatform({ seed, faults: true });
    const replies = repliesOf(platform);
    const frames = framesOf(platform);
    await agent({ 'message.ts': ECHO });
    platform.sendMessage({ employmentId: 1, content: 'before' });
    await waitFor(() => replies.length === 1);
    for (let round = 1; round <= 3; round++) {
      const reconnected = new Promise<void>((resolve) => platform.once('connection', () => resolve()));
      expect(platform.faults.dropConnections()).toBe(1);
      // The worker has no socket now: these are stored unread and never pushed.
      for (let i = 1; i <= 5; i++)
        expect(platform.sendMessage({ employmentId: 1, content: `r${round}.${i}` }).readAt).toBeNull();
      await reconnected;
    }
    await waitFor(() => replies.length === 16, { message: '16 replies' });
    expect(contents(replies, 1)).toEqual([
      'echo: before',
      ...[1, 2, 3].flatMap((r) => [1, 2, 3, 4, 5].map((i) => `echo: r${r}.${i}`)),
    ]);
    expect([...frames.values()].every((n) => n >= 1)).toBe(true);
  });

  it('keeps order when live messages arrive while the unread ones are caught up', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    for (let i = 1; i <= 40; i++) platform.sendMessage({ employmentId: 1, content: `u${i}` });
    // Live messages start the moment the worker's socket opens, before its history can have been read.
    let live = 0;
    platform.on('connection', ({ agentId }) => {
      if (agentId !== WORKER.id) return;
      const timer = setInterval(() => {
        platform.sendMessage({ employmentId: 1, content: `l${++live}` });
        if (live === 20) clearInterval(timer);
      }, 1);
      cleanup.push(async () => clearInterval(timer));
    });
    await agent({ 'message.ts': ECHO });
    await waitFor(() => replies.length === 60, { message: '60 replies' });
    expect(contents(replies, 1)).toEqual([
      ...Array.from({ length: 40 }, (_, i) => `echo: u${i + 1}`),
      ...Array.from({ length: 20 }, (_, i) => `echo: l${i + 1}`),
    ]);
  });

  it('a message refused by a full backlog is not skipped: its employment is read again, in order', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const running = await agent(
      {
        'message.ts': `export default async (ctx) => { await new Promise((r) => setTimeout(r, 2)); return 'echo: ' + ctx.event.content; };\n`,
      },
      { concurrency: 1, backlog: 4 },
    );
    // Live traffic once the start's catch-up is over, so nothing paces it.
    await waitFor(() => running.lines.some((l) => l.msg === 'catch-up: nothing unread'), {
      message: 'the first catch-up',
    });
    for (let i = 1; i <= 40; i++) platform.sendMessage({ employmentId: i % 2 ? 1 : 2, content: `f${i}` });
    await waitFor(() => replies.length === 40, { message: '40 replies', timeout: 15_000 });
    expect(running.runner.stats.refused).toBeGreaterThan(0);
    const expected = (odd: boolean) =>
      Array.from({ length: 40 }, (_, i) => i + 1)
        .filter((i) => (i % 2 === 1) === odd)
        .map((i) => `echo: f${i}`);
    expect(contents(replies, 1)).toEqual(expected(true));
    expect(contents(replies, 2)).toEqual(expected(false));
  });

  it('catches up pending invocations and accepted tasks once, when handlers exist for them', async () => {
    platform = await startPlatform({ seed, faults: true });
    const employer = as(platform, EMPLOYER.token);
    const invocationId = await employer.invoke(1, { text: 'late' });
    const { applicationId } = await employer.taskAcceptedFor(WORKER.token, 'While away');
    const running = await agent({
      'service-invoked.ts': `export default async (ctx) => {
  if (ctx.event.data.input?.text === 'live') await new Promise((resolve) => { globalThis.__release = resolve; });
  return { upper: String(ctx.event.data.input?.text).toUpperCase(), key: ctx.event.messageId };
};\n`,
      'task-accepted.ts': `export default (ctx) => 'done: ' + ctx.event.data.taskTitle;\n`,
    });
    await waitFor(async () => (await employer.invocation(invocationId)).status === 'completed', {
      message: 'the invocation completed',
    });
    expect((await employer.invocation(invocationId)).output).toEqual({
      upper: 'LATE',
      key: `invocation:${invocationId}`,
    });
    await waitFor(
      () => [...platform.state.submissions.values()].some((s) => s.applicationId === applicationId),
      { message: 'the task submitted' },
    );
    const submission = [...platform.state.submissions.values()].find(
      (s) => s.applicationId === applicationId,
    )!;
    expect(submission.content).toBe('done: While away');

    // A live invocation still running when a reconnect's catch-up finds it pending is not run twice.
    const second = await employer.invoke(1, { text: 'live' });
    await waitFor(() => globalThis.__release, { message: 'the live invocation running' });
    const reconnected = new Promise<void>((resolve) => platform.once('connection', () => resolve()));
    platform.faults.dropConnections();
    await reconnected;
    await waitFor(
      () =>
        running.lines.some((l) =>
          String(l.msg).startsWith('caught up 0 unread message(s) and 1 notification(s)'),
        ),
      { message: 'the second catch-up' },
    );
    globalThis.__release!();
    await waitFor(async () => (await employer.invocation(second)).status === 'completed', {
      message: 'the live invocation completed',
    });
    expect((await employer.invocation(second)).output).toMatchObject({ upper: 'LIVE' });
    expect(running.runner.stats).toMatchObject({ handled: 3, duplicates: 1, replyErrors: 0 });
  });

  it('does not read notifications without a handler for them', async () => {
    platform = await startPlatform({ seed });
    const employer = as(platform, EMPLOYER.token);
    const invocationId = await employer.invoke(1, { text: 'nobody' });
    const replies = repliesOf(platform);
    platform.sendMessage({ employmentId: 1, content: 'hi' });
    const running = await agent({ 'message.ts': ECHO });
    await waitFor(() => replies.length === 1);
    expect((await employer.invocation(invocationId)).status).toBe('pending');
    expect(running.runner.stats.received).toBe(1);
  });
});

describe('when history cannot be read', () => {
  it('holds the live messages of the employment until a retry reads it: nothing skipped, order kept', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const proxy = await startHistoryBreaker(platform.port);
    cleanup.push(() => proxy.close());
    for (let i = 1; i <= 3; i++) platform.sendMessage({ employmentId: 1, content: `old${i}` });
    proxy.breakHistory(true);
    const project = await makeProject({ 'c4c.config.json': '{}', 'handlers/message.ts': ECHO });
    cleanup.push(() => project.remove());
    const log = memoryLogger('debug');
    await runnerIn(project, { url: proxy.url, logger: log.logger });
    await waitFor(() => log.lines.some((l) => String(l.msg).startsWith('could not catch up employment 1')), {
      message: 'the failed history read',
    });
    // Live messages while history is down: answering them would acknowledge past old1..old3.
    platform.sendMessage({ employmentId: 1, content: 'live1' });
    platform.sendMessage({ employmentId: 1, content: 'live2' });
    platform.sendMessage({ employmentId: 2, content: 'other' });
    await waitFor(() => replies.some((r) => r.employmentId === 2) || proxy.refused() >= 2, {
      message: 'a retry refused',
    });
    expect(contents(replies, 1)).toEqual([]);
    proxy.breakHistory(false);
    await waitFor(() => contents(replies, 1).length === 5, {
      timeout: 15_000,
      message: 'five replies in employment 1',
    });
    expect(contents(replies, 1)).toEqual([
      'echo: old1',
      'echo: old2',
      'echo: old3',
      'echo: live1',
      'echo: live2',
    ]);
    await waitFor(() => contents(replies, 2).length === 1);
    expect(contents(replies, 2)).toEqual(['echo: other']);
  });
});

describe('across sockets', () => {
  const SLOW = `export default async (ctx) => { await new Promise((r) => setTimeout(r, 150)); return 'echo: ' + ctx.event.content; };\n`;

  it('a drop while catch-up holds live messages: what arrives between the two sockets is answered, in order', async () => {
    platform = await startPlatform({ seed, faults: true });
    const replies = repliesOf(platform);
    for (let i = 1; i <= 5; i++) platform.sendMessage({ employmentId: 1, content: `u${i}` });
    const running = await agent({ 'message.ts': SLOW }, { concurrency: 1, backlog: 4 });
    // Live while the backlog is still being caught up (slowly): held behind it.
    platform.sendMessage({ employmentId: 1, content: 'l1' });
    await waitFor(() => (running.runner.stats.catchUp?.held ?? 0) >= 1, { message: 'a held message' });
    const reconnected = new Promise<void>((resolve) => platform.once('connection', () => resolve()));
    expect(platform.faults.dropConnections()).toBe(1);
    // No socket: stored unread, pushed to no one. The old socket's held list knows nothing of them.
    platform.sendMessage({ employmentId: 1, content: 'g1' });
    platform.sendMessage({ employmentId: 1, content: 'g2' });
    await reconnected;
    await waitFor(() => contents(replies, 1).includes('echo: l1'), {
      message: "l1's reply",
      timeout: 15_000,
    });
    platform.sendMessage({ employmentId: 1, content: 'n1' });
    await waitFor(() => contents(replies, 1).includes('echo: n1'), {
      message: "n1's reply",
      timeout: 15_000,
    });
    expect(contents(replies, 1)).toEqual(
      ['u1', 'u2', 'u3', 'u4', 'u5', 'l1', 'g1', 'g2', 'n1'].map((c) => `echo: ${c}`),
    );
    await running.stop();
    agents.length = 0;
    expect(unread(1)).toBe(0);
  });

  it('a reconnect whose history read is refused, then another drop: nothing between the sockets is skipped', async () => {
    platform = await startPlatform({ seed, faults: true });
    const replies = repliesOf(platform);
    const running = await agent({ 'message.ts': ECHO }, { reconnect: { initialDelay: 20, maxDelay: 50 } });
    platform.sendMessage({ employmentId: 1, content: 'first' });
    await waitFor(() => replies.length === 1, { message: 'the first reply' });
    // A gateway answers 502 for history: the reconnect's catch-up fails and holds employment 1.
    platform.faults.refuseHistory(60_000);
    let reconnected = new Promise<void>((resolve) => platform.once('connection', () => resolve()));
    platform.faults.dropConnections();
    await reconnected;
    await waitFor(
      () => running.lines.some((l) => String(l.msg).startsWith('could not catch up employment 1')),
      {
        message: 'the refused history read',
      },
    );
    platform.sendMessage({ employmentId: 1, content: 'held' });
    await waitFor(() => (running.runner.stats.catchUp?.held ?? 0) >= 1, { message: 'the held message' });
    reconnected = new Promise<void>((resolve) => platform.once('connection', () => resolve()));
    platform.faults.dropConnections();
    platform.sendMessage({ employmentId: 1, content: 'between' });
    platform.faults.refuseHistory(0);
    await reconnected;
    await waitFor(() => contents(replies, 1).includes('echo: held'), {
      message: "held's reply",
      timeout: 15_000,
    });
    platform.sendMessage({ employmentId: 1, content: 'last' });
    await waitFor(() => contents(replies, 1).includes('echo: last'), {
      message: "last's reply",
      timeout: 15_000,
    });
    expect(contents(replies, 1)).toEqual(['first', 'held', 'between', 'last'].map((c) => `echo: ${c}`));
  });
});

describe('when the platform misbehaves', () => {
  it('a history that always says "more" with the same cursor: an error logged once, retried, nothing skipped', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const proxy = await startHistoryBreaker(platform.port);
    cleanup.push(() => proxy.close());
    platform.sendMessage({ employmentId: 1, content: 'old' });
    proxy.misbehave('stuck-cursor');
    const project = await makeProject({ 'c4c.config.json': '{}', 'handlers/message.ts': ECHO });
    cleanup.push(() => project.remove());
    const log = memoryLogger('debug');
    const running = await runnerIn(project, { url: proxy.url, logger: log.logger });
    const stuck = (l: Record<string, unknown>) => String(l.msg).includes('its cursor does not advance');
    await waitFor(() => (running.stats.catchUp?.failures ?? 0) >= 2, { message: 'a retry', timeout: 15_000 });
    expect(log.lines.filter((l) => stuck(l) && l.level === 40)).toHaveLength(1);
    expect(log.lines.filter((l) => stuck(l) && l.level === 20).length).toBeGreaterThanOrEqual(1);
    platform.sendMessage({ employmentId: 1, content: 'live' });
    proxy.misbehave(null);
    await waitFor(() => contents(replies, 1).length === 2, { message: 'two replies', timeout: 15_000 });
    expect(contents(replies, 1)).toEqual(['echo: old', 'echo: live']);
  });

  it('a list answered with limit 0 that ignores its page: paging ends at the total', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const proxy = await startHistoryBreaker(platform.port);
    cleanup.push(() => proxy.close());
    platform.sendMessage({ employmentId: 2, content: 'away' });
    proxy.misbehave('limit-zero');
    const project = await makeProject({ 'c4c.config.json': '{}', 'handlers/message.ts': ECHO });
    cleanup.push(() => project.remove());
    await runnerIn(project, { url: proxy.url, logger: memoryLogger('debug').logger });
    await waitFor(() => replies.length === 1, { message: 'the caught-up reply' });
    expect(contents(replies, 2)).toEqual(['echo: away']);
    expect(proxy.misbehaved()).toBe(1);
  });
});

describe('deduplicated replies', () => {
  it('derives reply ids from the incoming id: stable, distinct per position, UUID-shaped', () => {
    const id = replyMessageId('msg_a', 0);
    expect(id).toBe(replyMessageId('msg_a', 0));
    expect(id).not.toBe(replyMessageId('msg_a', 1));
    expect(id).not.toBe(replyMessageId('msg_b', 0));
    expect(id).toMatch(/^msg_[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('a message handled twice (died between reply and acknowledgement) is answered once', async () => {
    platform = await startPlatform({ seed });
    const replies = repliesOf(platform);
    const frames = framesOf(platform);
    for (let i = 1; i <= 5; i++) platform.sendMessage({ employmentId: 1, content: `m${i}` });
    const project = await makeProject({
      'c4c.config.json': '{}',
      // Two messages per event, the second through ctx.reply: both must keep their ids across runs.
      'handlers/message.ts': `export default async (ctx) => { await ctx.reply('seen: ' + ctx.event.content); return 'echo: ' + ctx.event.content; };\n`,
    });
    cleanup.push(() => project.remove());

    // First life: replies go out, the acknowledgements never do (as if killed right after replying).
    const first = await runnerIn(project, {
      ledger: new MemoryLedger({ size: 100, logger: memoryLogger().logger }),
    });
    await waitFor(() => replies.length === 10, { message: '10 replies' });
    await first.close();
    expect(unread(1)).toBe(5);

    // Second life: catch-up hands the five again; their replies carry the same ids and are dropped.
    const second = await runnerIn(project);
    await waitFor(() => second.stats.handled === 5, { message: 'the second life handled the five again' });
    await second.close();
    expect(replies.map((r) => r.content)).toEqual(
      [1, 2, 3, 4, 5].flatMap((i) => [`seen: m${i}`, `echo: m${i}`]),
    );
    expect(unread(1)).toBe(0);
    const repeated = [...frames.values()].filter((n) => n > 1).length;
    expect(repeated).toBe(10);
  });
});

async function runnerIn(
  project: Project,
  options: { ledger?: MemoryLedger; url?: string; logger?: Logger } = {},
): Promise<Runner> {
  const config = await loadConfig({
    cwd: project.dir,
    env: { C4C_API_ENDPOINT: options.url ?? platform.url, C4C_API_TOKEN: WORKER.token },
    home: `${project.dir}/home`,
  });
  const runner = createRunner(config, {
    logger: options.logger ?? memoryLogger().logger,
    ...(options.ledger ? { ledger: options.ledger } : {}),
  });
  cleanup.push(() => runner.close({ drainTimeout: 500 }));
  await runner.start();
  return runner;
}

/** What the proxy can make the platform do wrong: a history cursor that never moves, a list with limit 0 that ignores its page. */
type Misbehaviour = 'stuck-cursor' | 'limit-zero';

/**
 * An HTTP proxy before the platform whose history reads (`GET …/messages`) can be made to fail with
 * 503, or whose answers can be made to misbehave; every other request, and the WebSocket upgrade,
 * pass through untouched.
 */
async function startHistoryBreaker(port: number) {
  let misbehaved = 0;
  let broken = false;
  let refused = 0;
  let misbehaving: Misbehaviour | null = null;
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    if (misbehaving && req.method === 'GET') {
      const mode = misbehaving;
      const stuck = mode === 'stuck-cursor' && /\/employments\/1\/messages(\?|$)/.test(path);
      const zero = mode === 'limit-zero' && /\/agent\/me\/employments(\?|$)/.test(path);
      if (stuck || zero) {
        // A platform that ignores the page it is asked for, and echoes limit 0 / a cursor that never moves.
        const url = new URL(path, 'http://x');
        if (zero) url.searchParams.set('page', '1');
        const upstream = request(
          { host: '127.0.0.1', port, method: 'GET', path: url.pathname + url.search, headers: req.headers },
          (answer) => {
            let text = '';
            answer.setEncoding('utf8').on('data', (c: string) => (text += c));
            answer.on('end', () => {
              const body = JSON.parse(text) as { data: Record<string, unknown> };
              if (stuck) Object.assign(body.data, { hasMore: true, nextCursor: '999999' });
              if (zero) body.data.limit = 0;
              misbehaved++;
              res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
            });
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end();
        return;
      }
    }
    if (broken && req.method === 'GET' && /\/messages(\?|$)/.test(path)) {
      refused++;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          success: false,
          error: { code: 'UNAVAILABLE', message: 'history is down for a moment' },
        }),
      );
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const sockets = new Set<Socket>();
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    const upstream = connect(port, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(socket).add(upstream);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    breakHistory: (on: boolean) => {
      broken = on;
    },
    refused: () => refused,
    misbehave: (mode: Misbehaviour | null) => {
      misbehaving = mode;
    },
    misbehaved: () => misbehaved,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
