/**
 * Many `c4c-runner start --redis` processes serving one agent, against a real redis-server and the
 * embedded platform, each process a child process as in production. The platform's own record
 * (stored messages, socket events) is what the assertions count.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisProxy, startRedis, type RedisServer } from '../helpers/redis.js';
import { GROUP, Keys } from '../../src/scale/redis.js';
import {
  EMPLOYER,
  WORKER_TOKEN,
  repliesOf,
  scaleWorld,
  waitForReplies,
  type ScaleWorld,
} from '../helpers/scale.js';

import { waitFor } from '../helpers/wait.js';

/** Counts the employment's messages in ctx.state and says the count in the reply. */
const COUNTING = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  const n = await ctx.state.update((s) => (typeof s === 'number' ? s : 0) + 1);
  return process.pid + ':' + ctx.event.content + '#' + n;
});`;

/** Logs which employment it runs, then answers after 1.5 s. */
const SLOW_LOGGING = `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', async (ctx) => {
  ctx.log.info('running e' + ctx.event.employmentId);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return process.pid + ':' + ctx.event.content;
});`;

let redis: RedisServer;
let world: ScaleWorld | undefined;

beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await world?.close();
  world = undefined;
  await redis.stop();
});

/** Sends `perEmployment` messages into each of `employments` employments, interleaved. */
function sendAll(w: ScaleWorld, employments: number, perEmployment: number, tag: string): void {
  for (let n = 1; n <= perEmployment; n++)
    for (let e = 1; e <= employments; e++)
      w.platform.sendMessage({ employmentId: e, content: `${tag}${n}`, from: EMPLOYER });
}

/** Every employment answered once per message, in order. */
function expectAnsweredOnceInOrder(w: ScaleWorld, employments: number, tags: string[]): void {
  for (let e = 1; e <= employments; e++)
    expect(
      repliesOf(w, e).map(([, content]) => content),
      `employment ${e}`,
    ).toEqual(tags);
}

// Several child processes, a takeover and a catch-up per test: more than the default 20 s on a loaded machine.
describe('start --redis', { timeout: 60_000 }, () => {
  it('two processes share the work: one socket, every message answered once and in order, by both', async () => {
    world = await scaleWorld({ redisUrl: redis.url, employments: 12 });
    const a = world.start();
    await a.waitForLine('holding the platform socket');
    await a.waitForLine('c4c-runner started');
    const b = world.start();
    await b.waitForLine('c4c-runner started');
    // The first process gives partitions back until both hold their share.
    await b.waitForLine(/consuming partitions: \d/);
    await a.waitForLine(/consuming partitions: (\d+, ){3}\d+"/, 15_000);

    sendAll(world, 12, 5, 'm');
    await waitForReplies(world, 60);
    expectAnsweredOnceInOrder(world, 12, ['m1', 'm2', 'm3', 'm4', 'm5']);
    const pids = new Set(world.replies.map((r) => r.content.split(':')[0]));
    expect(pids).toEqual(new Set([String(a.child.pid), String(b.child.pid)]));
    expect(world.sockets.peak).toBe(1);
    // Everything answered is read: the read receipts followed the replies.
    await expectAllRead(world);
    // No log line carries the token.
    expect(a.output() + b.output()).not.toContain('cl_scale_worker_secret');
  });

  it('kill -9 of the socket holder: the other process takes the lease, connects, catches up, and answers each message once, in order; ctx.state follows the conversation', async () => {
    world = await scaleWorld({ redisUrl: redis.url, employments: 6, handler: COUNTING });
    const a = world.start();
    await a.waitForLine('holding the platform socket');
    const b = world.start();
    await b.waitForLine('c4c-runner started');
    sendAll(world, 6, 3, 'x');
    await waitForReplies(world, 18);
    // Killed only once its answered entries are acknowledged: one killed between a reply and its
    // XACK is run again by the next owner (at least once), and would count twice in ctx.state.
    await waitForNothingPending(8);

    a.child.kill('SIGKILL');
    await a.exited;
    // Sent while no process holds the socket: read from history by the next holder.
    sendAll(world, 6, 3, 'y');
    await b.waitForLine('holding the platform socket', 15_000);
    await waitForReplies(world, 36);
    // The count kept in ctx.state (Redis) goes on across the processes: nothing lost, nothing counted twice.
    expectAnsweredOnceInOrder(world, 6, ['x1#1', 'x2#2', 'x3#3', 'y1#4', 'y2#5', 'y3#6']);
    expect(world.sockets.peak).toBe(1);
    expect(world.sockets.opened).toBe(2);
    await expectAllRead(world);
  });

  it('SIGTERM of the socket holder: it drains, exits 0 and hands the socket over; nothing is lost', async () => {
    world = await scaleWorld({ redisUrl: redis.url, employments: 4 });
    const a = world.start();
    await a.waitForLine('holding the platform socket');
    const b = world.start();
    await b.waitForLine('c4c-runner started');
    sendAll(world, 4, 2, 't');
    await waitForReplies(world, 8);
    expect(await a.stop('SIGTERM')).toBe(0);
    await b.waitForLine('holding the platform socket', 15_000);
    sendAll(world, 4, 2, 'u');
    await waitForReplies(world, 16);
    expectAnsweredOnceInOrder(world, 4, ['t1', 't2', 'u1', 'u2']);
    expect(world.sockets.peak).toBe(1);
    await expectAllRead(world);
  });

  it('the holder cut off from Redis closes its socket before another process connects; the work goes on', async () => {
    const proxy = await redisProxy(redis);
    try {
      world = await scaleWorld({ redisUrl: redis.url, employments: 4 });
      const events: string[] = [];
      world.platform.on('connection', ({ agentId }) => events.push(`open ${agentId}`));
      world.platform.on('disconnect', ({ agentId }) => events.push(`close ${agentId}`));
      const a = world.start({}, proxy.url);
      await a.waitForLine('holding the platform socket');
      const b = world.start();
      await b.waitForLine('c4c-runner started');
      sendAll(world, 4, 2, 'p');
      await waitForReplies(world, 8);

      proxy.cut();
      await a.waitForLine('closing the platform socket', 15_000);
      await b.waitForLine('holding the platform socket', 15_000);
      await waitFor(() => events.filter((e) => e === 'open 1').length === 2, {
        message: 'the second socket of the agent',
      });
      // Never two sockets of the agent at once: the first closed before the second opened.
      expect(events.filter((e) => e.endsWith(' 1'))).toEqual(['open 1', 'close 1', 'open 1']);
      expect(world.sockets.peak).toBe(1);

      // a's partitions expire with its leases; b takes them and answers the rest.
      sendAll(world, 4, 2, 'q');
      await waitForReplies(world, 16);
      expectAnsweredOnceInOrder(world, 4, ['p1', 'p2', 'q1', 'q2']);
      proxy.restore();
    } finally {
      await world?.close();
      world = undefined;
      await proxy.close();
    }
  });

  it('a process cut off from Redis with a handler running: its reply cannot go out, so nothing is acknowledged; another process takes its partitions and answers', async () => {
    const proxy = await redisProxy(redis);
    try {
      world = await scaleWorld({ redisUrl: redis.url, employments: 8, handler: SLOW_LOGGING });
      const a = world.start();
      await a.waitForLine('holding the platform socket');
      const b = world.start({}, proxy.url);
      await b.waitForLine(/consuming partitions: \d/);
      await a.waitForLine(/consuming partitions: (\d+, ){3}\d+"/, 15_000);
      sendAll(world, 8, 1, 'v');
      const running = /running (e\d+)/.exec(await b.waitForLine(/running e\d+/))![1]!;
      proxy.cut();
      await waitForReplies(world, 8, 30_000);
      expectAnsweredOnceInOrder(world, 8, ['v1']);
      // What b was running when it was cut off was answered by a, after claiming b's pending entries.
      const employment = Number(running.slice(1));
      expect(repliesOf(world, employment)).toEqual([[String(a.child.pid), 'v1']]);
      expect(world.sockets.peak).toBe(1);
      proxy.restore();
    } finally {
      await world?.close();
      world = undefined;
      await proxy.close();
    }
  });

  it('Redis lost while running (killed, back empty): the holder closes its socket, and once Redis is back the agent answers everything once, in order', async () => {
    world = await scaleWorld({ redisUrl: redis.url, employments: 4 });
    const a = world.start();
    await a.waitForLine('holding the platform socket');
    const b = world.start();
    await b.waitForLine('c4c-runner started');
    sendAll(world, 4, 2, 'r');
    await waitForReplies(world, 8);

    await redis.kill();
    await a.waitForLine('closing the platform socket', 15_000);
    await waitFor(() => world!.sockets.open === 0, { message: 'the agent offline' });
    // Sent while Redis is away and nobody holds the socket: found in history later.
    sendAll(world, 4, 2, 's');
    await redis.restart();
    await waitForReplies(world, 16, 30_000);
    expectAnsweredOnceInOrder(world, 4, ['r1', 'r2', 's1', 's2']);
    expect(world.sockets.peak).toBe(1);
    await expectAllRead(world);
    // One warning per outage, not one per retry.
    expect(a.output().split('reading the partitions failed').length).toBeLessThanOrEqual(2);
  });

  it('Redis unreachable at start: a clear E_REDIS error with what to do, and the password redacted', async () => {
    world = await scaleWorld({ redisUrl: 'redis://:hunter2pass@127.0.0.1:1/0', employments: 1 });
    const cli = world.start();
    expect(await cli.exited).not.toBe(0);
    expect(cli.output()).toMatch(
      /cannot reach Redis at redis:\/\/:?\[redacted\]@127\.0\.0\.1:1\/0: .*ECONNREFUSED/,
    );
    expect(cli.output()).toMatch(/start Redis/);
    expect(cli.output()).not.toContain('hunter2pass');
  });
});

/** Waits until no partition stream has an entry read and not yet acknowledged. */
async function waitForNothingPending(partitions: number): Promise<void> {
  const client = redis.client();
  const keys = new Keys(WORKER_TOKEN);
  await waitFor(
    async () => {
      for (let p = 0; p < partitions; p++) {
        const [count] = (await client.xpending(keys.partition(p), GROUP)) as [number];
        if (count > 0) return false;
      }
      return true;
    },
    { message: 'every answered entry acknowledged' },
  );
}

async function expectAllRead(w: ScaleWorld): Promise<void> {
  await waitFor(
    () => {
      const unread = [...w.platform.state.messages.values()].filter(
        (m) => m.senderAgentId === EMPLOYER && m.readAt === null,
      );
      return unread.length === 0;
    },
    { timeout: 15_000, message: 'every message marked read' },
  );
}
