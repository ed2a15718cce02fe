/**
 * The runner under a hostile or broken platform, over real sockets: 10,000 malformed, truncated,
 * oversized and unknown frames (the runner stays up and keeps answering, in order), a frame beyond
 * the hard limit (a reconnect, not a crash), and a half-open connection — a socket that silently
 * stops carrying anything while the platform still believes it is alive — detected and replaced
 * within the pong timeout, with what vanished into it answered afterwards (fake timers).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { UserConfig } from '../../src/config/schema.js';
import { MAX_FRAME_BYTES } from '../../src/protocol/frames.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { MessageRecord } from '../../src/platform/index.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { pollUntil, seededRandom } from '../helpers/connection-server.js';
import { waitFor } from '../helpers/wait.js';
import { makeProject, memoryLogger } from '../helpers/runner.js';

const ECHO = `export default async (ctx) => 'echo: ' + ctx.event.content;\n`;

let platform: Platform | undefined;
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const step of cleanup.splice(0).reverse()) await step();
  await platform?.close();
  platform = undefined;
});

/** A runner in-process for a temp project, pointed at `url` (the platform, or a proxy before it). */
async function runner(url: string, token: string, config: UserConfig = {}) {
  const project = await makeProject({
    'c4c.config.json': JSON.stringify(config),
    'handlers/message.ts': ECHO,
  });
  cleanup.push(() => project.remove());
  const resolved = await loadConfig({
    cwd: project.dir,
    env: { C4C_API_ENDPOINT: url, C4C_API_TOKEN: token },
    home: `${project.dir}/home`,
  });
  const log = memoryLogger('debug');
  const agent: Runner = createRunner(resolved, { logger: log.logger });
  cleanup.push(() => agent.close({ drainTimeout: 500 }));
  await agent.start();
  return { agent, lines: log.lines };
}

function repliesOf(p: Platform, agentId: number): MessageRecord[] {
  const replies: MessageRecord[] = [];
  p.on('message', (m) => {
    if (m.senderAgentId === agentId) replies.push(m);
  });
  return replies;
}

/** 10,000 bad frames of every kind, from a seeded generator (the same run every time). */
function* fuzzFrames(count: number, random: () => number): Generator<{ kind: string; raw: string }> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const valid = () =>
    JSON.stringify({
      type: 'message',
      employmentId: 1,
      messageId: `msg_fuzz_${Math.floor(random() * 1e9)}`,
      timestamp: '2026-04-12T10:00:00Z',
      content: 'x'.repeat(Math.floor(random() * 200)),
      metadata: {
        format: 'text',
        attachments: [{ type: 'file', url: 'https://a.example/x', name: 'a', size: 1 }],
      },
    });
  const makers: [string, () => string][] = [
    [
      'truncated',
      () => {
        const text = valid();
        return text.slice(0, 1 + Math.floor(random() * (text.length - 2)));
      },
    ],
    [
      'garbage',
      () =>
        Array.from({ length: 1 + Math.floor(random() * 64) }, () =>
          String.fromCharCode(Math.floor(random() * 0xd7ff)),
        ).join(''),
    ],
    [
      'not-object',
      () => pick(['[]', '[1,2]', '42', '"message"', 'null', 'true', '-0.5e400', '[{"type":"message"}]']),
    ],
    [
      'unknown-type',
      () =>
        JSON.stringify({
          type: pick(['mystery', 'MESSAGE', '', 'notifications', 'hello']),
          messageId: 'msg_u',
        }),
    ],
    [
      'no-type',
      () =>
        JSON.stringify(pick([{}, { employmentId: 1 }, { type: null }, { type: 7 }, { type: ['message'] }])),
    ],
    [
      'invalid-message',
      () =>
        JSON.stringify(
          pick([
            { type: 'message', employmentId: 'one', messageId: 'msg_i', timestamp: '', content: 'x' },
            { type: 'message', employmentId: -1, messageId: 'msg_i', timestamp: '', content: 'x' },
            { type: 'message', employmentId: 1.5, messageId: 'msg_i', timestamp: '', content: 'x' },
            { type: 'message', employmentId: 1, messageId: '', timestamp: '', content: 'x' },
            { type: 'message', employmentId: 1, messageId: 'msg_i', timestamp: '', content: 42 },
            {
              type: 'message',
              employmentId: 1,
              messageId: 'msg_i',
              timestamp: '',
              content: 'x',
              metadata: 'text',
            },
            { type: 'message', employmentId: 1, messageId: 'msg_i', timestamp: 5, content: 'x' },
          ]),
        ),
    ],
    [
      'invalid-other',
      () =>
        JSON.stringify(
          pick([
            { type: 'notification', domain: 'task', event: 'task_completed', data: [1, 2] },
            { type: 'notification', domain: 7, event: 'x', data: {} },
            { type: 'read', messageId: 'msg_r' },
            { type: 'error', message: 'no code' },
            { type: 'error', code: 'X' },
          ]),
        ),
    ],
    ['nested', () => '['.repeat(5_000) + ']'.repeat(5_000)],
    [
      'proto',
      () =>
        '{"type":"notification","domain":"task","event":"task_completed","__proto__":{"polluted":true},"data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}',
    ],
    // Well-formed frames the runner has no use for: passed through or dropped, never a crash.
    [
      'unknown-notification',
      () =>
        JSON.stringify({
          type: 'notification',
          domain: pick(['weather', 'task']),
          event: pick(['rain', 'task_exploded']),
          data: { any: random() },
        }),
    ],
    [
      'stray',
      () =>
        JSON.stringify(
          pick([
            { type: 'pong' },
            { type: 'read', employmentId: 1, lastReadMessageId: 'msg_nope' },
            { type: 'error', code: 'SOMETHING', message: 'odd', details: { messageId: 'msg_never_sent' } },
          ]),
        ),
    ],
  ];
  for (let i = 0; i < count; i++) {
    // A few oversized frames (just beyond the 1 MiB limit, below the socket's hard cap).
    if (i % 500 === 250) {
      yield {
        kind: 'oversized',
        raw: JSON.stringify({
          type: 'message',
          employmentId: 1,
          messageId: `msg_big_${i}`,
          timestamp: '',
          content: 'y'.repeat(MAX_FRAME_BYTES),
        }),
      };
      continue;
    }
    const [kind, make] = pick(makers);
    yield { kind, raw: make() };
  }
}

describe('fuzz', () => {
  it(
    '10,000 malformed, truncated, oversized and unknown frames: the runner stays up and answers in order',
    { timeout: 60_000 },
    async () => {
      platform = await startPlatform({ faults: true });
      const { agent: me, employmentId } = platform.world;
      const replies = repliesOf(platform, me.id);
      const { agent, lines } = await runner(platform.url, me.token);

      const kinds = new Map<string, number>();
      let sentMessages = 0;
      let batch = 0;
      for (const { kind, raw } of fuzzFrames(10_000, seededRandom(20261125))) {
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        expect(platform.push(me.id, raw)).toBe(1);
        // Real messages between the bad ones; every 500 frames, wait for the answers so far.
        if (++batch % 100 === 0) platform.sendMessage({ employmentId, content: `real ${++sentMessages}` });
        if (batch % 500 === 0)
          await waitFor(() => replies.length === sentMessages, { message: `${sentMessages} replies` });
      }
      platform.faults.malformed(12); // the platform's own set too, its oversized frames included
      platform.sendMessage({ employmentId, content: `real ${++sentMessages}` });
      await waitFor(() => replies.length === sentMessages, { timeout: 20_000, message: 'the last reply' });

      expect(replies.map((r) => r.content)).toEqual(
        Array.from({ length: sentMessages }, (_, i) => `echo: real ${i + 1}`),
      );
      expect(agent.state).toBe('running');
      expect(agent.stats.connection).toBe('open');
      expect(platform.stats.connectionsOpened).toBe(1); // no frame cost the socket
      expect(kinds.size).toBeGreaterThanOrEqual(12);
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      // Counted, and logged once per kind: a flood does not flood the log.
      const logged = lines
        .filter((l) => String(l.msg).startsWith('dropped a malformed frame'))
        .map((l) => l.reason);
      expect(new Set(logged).size).toBe(logged.length);
      expect(logged.sort()).toEqual(['invalid', 'not-json', 'not-object', 'too-large', 'unknown-type']);
    },
  );

  it('a frame beyond the socket hard limit costs a reconnect, not the process; the next message is answered', async () => {
    platform = await startPlatform();
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const { agent } = await runner(platform.url, me.token, {
      reconnect: { initialDelay: 20, maxDelay: 100 },
    });
    const reconnected = new Promise<void>((resolve) => platform!.once('connection', () => resolve()));
    platform.push(
      me.id,
      JSON.stringify({
        type: 'message',
        employmentId,
        messageId: 'msg_huge',
        timestamp: '',
        content: 'z'.repeat(5 * MAX_FRAME_BYTES),
      }),
    );
    await reconnected;
    platform.sendMessage({ employmentId, content: 'after' });
    await waitFor(() => replies.length === 1);
    expect(replies[0]!.content).toBe('echo: after');
    expect(agent.state).toBe('running');
  });
});

describe('rate limit', () => {
  it(
    'replies refused with RATE_LIMITED are retried until they pass: every message answered, in order, none lost',
    { timeout: 40_000 },
    async () => {
      const seed = {
        agents: [
          { id: 1, name: 'Employer', token: 'cl_rl_employer' },
          { id: 2, name: 'Worker', token: 'cl_rl_worker' },
        ],
        employments: Array.from({ length: 20 }, (_, i) => ({
          id: i + 1,
          employerAgentId: 1,
          employeeAgentId: 2,
          salary: '1',
        })),
      };
      platform = await startPlatform({ seed, faults: true });
      const replies = repliesOf(platform, 2);
      let refusals = 0;
      platform.on('rejected', ({ code }) => {
        if (code === 'RATE_LIMITED') refusals++;
      });
      // Short pauses between retries: the queued replies are refused many times over before they pass.
      await runner(platform.url, 'cl_rl_worker', { reconnect: { initialDelay: 20, maxDelay: 200 } });
      platform.faults.rateLimit(5);
      for (let i = 0; i < 40; i++) platform.sendMessage({ employmentId: (i % 20) + 1, content: `r${i}` });
      await waitFor(() => replies.length === 40, { timeout: 30_000, message: '40 replies' });
      for (let e = 1; e <= 20; e++) {
        expect(replies.filter((r) => r.employmentId === e).map((r) => r.content)).toEqual([
          `echo: r${e - 1}`,
          `echo: r${e + 19}`,
        ]);
      }
      expect(refusals).toBeGreaterThan(40);
    },
  );
});

/** A TCP proxy that can turn its open WebSocket connections into a black hole (half-open). */
async function startProxy(target: number) {
  const pairs: { client: Socket; upstream: Socket; ws: boolean; dead: boolean }[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    const pair = { client, upstream, ws: false, dead: false };
    pairs.push(pair);
    client.on('data', (chunk) => {
      if (!pair.ws && chunk.toString('latin1').startsWith('GET /ws')) pair.ws = true;
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** WebSocket connections opened through the proxy so far. */
    sockets: () => pairs.filter((p) => p.ws).length,
    /** Every open WebSocket connection silently stops carrying bytes, both ways; nothing is closed. */
    blackhole: () => pairs.filter((p) => p.ws).forEach((p) => (p.dead = true)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

describe('half-open connection', () => {
  it('stopPongs: the hung socket is replaced within the pong timeout; the unproven reply is re-sent, stored once', async () => {
    platform = await startPlatform({ faults: true, heartbeat: { interval: 3_600_000, timeout: 7_200_000 } });
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const written = new Map<string, number>();
    platform.on('frame', ({ agentId, frame }) => {
      if (agentId === me.id && frame.type === 'message')
        written.set(frame.content, (written.get(frame.content) ?? 0) + 1);
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { agent } = await runner(platform.url, me.token, {
      heartbeat: { interval: 30_000, timeout: 60_000 },
      reconnect: { initialDelay: 1_000, maxDelay: 1_000 },
    });
    const opened = platform.stats.connectionsOpened;
    platform.faults.stopPongs(61_000);
    const stoppedAt = Date.now();
    for (let i = 1; i <= 3; i++) platform.sendMessage({ employmentId, content: `hung ${i}` });
    // The first reply reaches the platform, but nothing proves it: its message is not acknowledged,
    // and the employment's next messages wait behind it.
    await pollUntil(() => replies.length === 1, 'the reply written into the hung socket');
    await vi.advanceTimersByTimeAsync(59_999);
    expect(agent.stats.connection).toBe('open');
    expect(replies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await pollUntil(() => agent.stats.connection !== 'open', 'the hung socket dropped');
    expect(Date.now() - stoppedAt).toBe(60_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await pollUntil(() => agent.stats.connection === 'open', 'the replacement socket', 10_000);
    expect(platform.stats.connectionsOpened).toBe(opened + 1);
    platform.sendMessage({ employmentId, content: 'after' });
    await pollUntil(() => replies.length === 4, 'every reply', 10_000);
    expect(replies.map((r) => r.content)).toEqual([
      'echo: hung 1',
      'echo: hung 2',
      'echo: hung 3',
      'echo: after',
    ]);
    expect(written.get('echo: hung 1')).toBe(2); // re-sent on the new socket with its id; the platform dropped it
  });

  it('delivery pings never answered on one socket (its heartbeat still is): replaced at the pong timeout, the unproven reply sent again, nothing lost', async () => {
    platform = await startPlatform({ faults: true, heartbeat: { interval: 3_600_000, timeout: 7_200_000 } });
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const written = new Map<string, number>();
    platform.on('frame', ({ agentId, frame }) => {
      if (agentId === me.id && frame.type === 'message')
        written.set(frame.content, (written.get(frame.content) ?? 0) + 1);
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { agent, lines } = await runner(platform.url, me.token, {
      heartbeat: { interval: 30_000, timeout: 60_000 },
      reconnect: { initialDelay: 1_000, maxDelay: 1_000 },
    });
    const opened = platform.stats.connectionsOpened;
    // The heartbeat's empty pings are still answered: only delivery's own proof can notice.
    expect(platform.faults.stopDataPongs()).toBe(1);
    const stoppedAt = Date.now();
    const first = platform.sendMessage({ employmentId, content: 'unproven' });
    platform.sendMessage({ employmentId, content: 'behind' });
    await pollUntil(() => replies.length === 1, 'the reply written into the socket that proves nothing');
    await vi.advanceTimersByTimeAsync(59_999);
    expect(agent.stats.connection).toBe('open');
    expect(replies).toHaveLength(1);
    expect(first.readAt).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    await pollUntil(() => agent.stats.connection !== 'open', 'the socket replaced');
    expect(Date.now() - stoppedAt).toBe(60_000);
    expect(lines.find((l) => String(l.msg).includes('replacing the connection'))).toMatchObject({
      level: 40,
      msg: 'the platform confirmed no frame for 60000 ms although it was asked again; replacing the connection',
    });
    // Delivery asked again all along; the heartbeat did not cut it (its pongs kept coming).
    expect(
      lines.some((l) => String(l.msg).includes('no pong to the delivery ping; asking the platform again')),
    ).toBe(true);
    expect(lines.some((l) => String(l.msg).includes('the connection is dead'))).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await pollUntil(() => agent.stats.connection === 'open', 'the new socket', 10_000);
    expect(platform.stats.connectionsOpened).toBe(opened + 1);
    await pollUntil(() => replies.length === 2, 'the reply behind it', 10_000);
    expect(replies.map((r) => r.content)).toEqual(['echo: unproven', 'echo: behind']);
    expect(written.get('echo: unproven')).toBe(2); // sent again on the new socket with its id; stored once
    for (let i = 0; i < 10 && first.readAt === null; i++) await vi.advanceTimersByTimeAsync(1_000);
    await pollUntil(() => first.readAt !== null, 'the message read once its reply was proven');
  });

  it('one delivery ping without a pong: the runner asks again and goes on answering (a lost pong is not a hang)', async () => {
    platform = await startPlatform({ faults: true, heartbeat: { interval: 3_600_000, timeout: 7_200_000 } });
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const { lines } = await runner(platform.url, me.token);
    platform.faults.stopPongs(300);
    const stoppedUntil = Date.now() + 300;
    const first = platform.sendMessage({ employmentId, content: 'during' });
    await waitFor(() => replies.length === 1, { message: 'the reply whose pong is lost' });
    await waitFor(() => Date.now() > stoppedUntil, { message: 'pongs answered again' });
    const later = [1, 2].map((i) => platform!.sendMessage({ employmentId, content: `after ${i}` }));
    await waitFor(() => replies.length === 3, { message: 'the later replies' });
    expect(replies.map((r) => r.content)).toEqual(['echo: during', 'echo: after 1', 'echo: after 2']);
    await waitFor(() => [first, ...later].every((m) => m.readAt !== null), {
      message: 'all read (acknowledgements are paced: 5 s)',
      timeout: 20_000,
    });
    expect(lines.some((l) => String(l.msg).includes('asking the platform again'))).toBe(true);
  });

  it('closing while a reply waits for a proof that never comes ends at the drain timeout, message left unread', async () => {
    platform = await startPlatform({ faults: true, heartbeat: { interval: 3_600_000, timeout: 7_200_000 } });
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const { agent, lines } = await runner(platform.url, me.token);
    platform.faults.stopPongs(600_000);
    const message = platform.sendMessage({ employmentId, content: 'unproven' });
    await waitFor(() => replies.length === 1, { message: 'the reply written' });
    const closed = agent.close({ drainTimeout: 300 });
    await Promise.race([
      closed,
      waitFor(() => false, { timeout: 5_000, message: 'close to end after the drain timeout' }),
    ]);
    expect(agent.state).toBe('closed');
    expect(message.readAt).toBeNull(); // handled again at the next start; its reply id makes that a no-op
    expect(
      lines.some((l) => String(l.msg).includes('handlers still running after 300 ms were aborted')),
    ).toBe(true);
  });

  it('a socket that silently stops is replaced within the pong timeout; what vanished into it is answered after', async () => {
    // The platform's own dead-client check is far away: it keeps believing the socket is alive and
    // pushes into it, the worst case for a client.
    platform = await startPlatform({ heartbeat: { interval: 3_600_000, timeout: 7_200_000 } });
    const { agent: me, employmentId } = platform.world;
    const replies = repliesOf(platform, me.id);
    const proxy = await startProxy(platform.port);
    cleanup.push(() => proxy.close());
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { agent } = await runner(proxy.url, me.token, {
      heartbeat: { interval: 30_000, timeout: 60_000 },
      reconnect: { initialDelay: 1_000, maxDelay: 1_000 },
    });

    platform.sendMessage({ employmentId, content: 'before' });
    await pollUntil(() => replies.length === 1, 'the first reply');
    proxy.blackhole();
    const cutAt = Date.now();
    // Pushed into the dead socket: delivered as far as the platform knows, never read.
    expect(platform.sendMessage({ employmentId, content: 'lost 1' })).toBeTruthy();
    expect(platform.sendMessage({ employmentId, content: 'lost 2' })).toBeTruthy();

    await vi.advanceTimersByTimeAsync(59_999);
    expect(agent.stats.connection).toBe('open');
    expect(proxy.sockets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await pollUntil(() => agent.stats.connection !== 'open', 'the dead socket dropped');
    expect(Date.now() - cutAt).toBe(60_000);
    await vi.advanceTimersByTimeAsync(1_000); // the reconnect delay, at most initialDelay
    await pollUntil(() => agent.stats.connection === 'open', 'the replacement socket', 10_000);
    expect(proxy.sockets()).toBe(2);
    await pollUntil(() => replies.length === 3, 'the caught-up replies', 10_000);
    expect(replies.map((r) => r.content)).toEqual(['echo: before', 'echo: lost 1', 'echo: lost 2']);
  });
});
