/**
 * Many `c4c-runner start --redis` processes serving one agent, against a real redis-server and the
 * embedded platform, each process a child process as in production. The platform's own record
 * (stored messages, socket events) is what the assertions count.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { EMPLOYER, repliesOf, scaleWorld, waitForReplies, type ScaleWorld } from '../helpers/scale.js';

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

describe('start --redis', () => {
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

  it('kill -9 of the socket holder: the other process takes the lease, connects, catches up, and answers each message once, in order', async () => {
    world = await scaleWorld({ redisUrl: redis.url, employments: 6 });
    const a = world.start();
    await a.waitForLine('holding the platform socket');
    const b = world.start();
    await b.waitForLine('c4c-runner started');
    sendAll(world, 6, 3, 'x');
    await waitForReplies(world, 18);

    a.child.kill('SIGKILL');
    await a.exited;
    // Sent while no process holds the socket: read from history by the next holder.
    sendAll(world, 6, 3, 'y');
    await b.waitForLine('holding the platform socket', 15_000);
    await waitForReplies(world, 36);
    expectAnsweredOnceInOrder(world, 6, ['x1', 'x2', 'x3', 'y1', 'y2', 'y3']);
    expect(world.sockets.peak).toBe(1);
    expect(world.sockets.opened).toBe(2);
    await expectAllRead(world);
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

async function expectAllRead(w: ScaleWorld): Promise<void> {
  const { waitFor } = await import('../helpers/wait.js');
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
