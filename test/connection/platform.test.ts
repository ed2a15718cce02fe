/**
 * The connection against the embedded platform (src/platform), over real loopback sockets: what
 * it sends arrives, drops and rate limits lose nothing and keep order, a hung platform is replaced.
 */
import { once } from 'node:events';
import { afterEach, expect, it, vi } from 'vitest';
import { Connection, type ConnectionOptions } from '../../src/connection/connection.js';
import { isC4cError } from '../../src/errors.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { pollUntil } from '../helpers/connection-server.js';

let platform: Platform | undefined;
const open: Connection[] = [];

async function setup(
  options: Partial<ConnectionOptions> = {},
): Promise<{ platform: Platform; conn: Connection }> {
  platform = await startPlatform({ faults: true });
  const conn = new Connection({
    url: platform.wsUrl,
    token: platform.world.agent.token,
    reconnect: { initialDelay: 50, maxDelay: 200 },
    ...options,
  });
  open.push(conn);
  return { platform, conn };
}

/** messageIds the platform stored from the agent, in the order it stored them. */
function stored(p: Platform): string[] {
  const ids: string[] = [];
  p.on('message', (record) => {
    if (record.senderAgentId === p.world.agent.id) ids.push(record.messageId);
  });
  return ids;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((conn) => conn.close()));
  vi.useRealTimers();
  await platform?.close();
  platform = undefined;
});

it('receives a message from the employer and answers into the same employment', async () => {
  const { platform, conn } = await setup();
  const ids = stored(platform);
  await conn.connect();
  const frame = once(conn, 'frame') as Promise<[ServerFrame]>;
  platform.sendMessage({ employmentId: platform.world.employmentId, content: 'hello agent' });
  const [received] = await frame;
  expect(received).toMatchObject({
    type: 'message',
    employmentId: platform.world.employmentId,
    content: 'hello agent',
  });
  const sent = await conn.send(
    { type: 'message', employmentId: platform.world.employmentId, content: 'hello employer' },
    { until: 'confirmed' },
  );
  expect(ids).toEqual([sent.type === 'message' && sent.messageId]);
});

it('a bad token stops with E_AUTH after one upgrade', async () => {
  platform = await startPlatform();
  const refused: unknown[] = [];
  platform.on('unauthorized', (info) => refused.push(info));
  const conn = new Connection({
    url: platform.wsUrl,
    token: 'cl_wrong',
    reconnect: { initialDelay: 1, maxDelay: 1 },
  });
  open.push(conn);
  const error = await conn.connect().catch((e: unknown) => e);
  expect(isC4cError(error, 'E_AUTH')).toBe(true);
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(refused).toHaveLength(1);
});

it('dropConnections in the middle of 300 sends: every message stored once, in order', async () => {
  const { platform, conn } = await setup();
  const ids = stored(platform);
  await conn.connect();
  const employmentId = platform.world.employmentId;
  const sends: Array<Promise<unknown>> = [];
  for (let n = 0; n < 300; n++) {
    sends.push(conn.send({ type: 'message', employmentId, messageId: `msg_${n}`, content: `reply ${n}` }));
    if (n % 60 === 30) {
      // Let some frames reach the socket, then cut it with no close frame.
      await new Promise((resolve) => setImmediate(resolve));
      platform.faults.dropConnections();
    }
  }
  await Promise.all(sends);
  expect(await conn.flush(10_000)).toBe(true);
  expect(ids).toEqual(Array.from({ length: 300 }, (_, n) => `msg_${n}`));
  expect(conn.stats.requeued).toBeGreaterThan(0);
  expect(platform.stats.connectionsOpened).toBeGreaterThanOrEqual(2);
});

it('a rate limit of 5/s: every message stored once, in order, with paused retries', async () => {
  const { platform, conn } = await setup({ reconnect: { initialDelay: 200, maxDelay: 1_000 } });
  const ids = stored(platform);
  const refusals: unknown[] = [];
  conn.on('platform-error', (frame) => refusals.push(frame.code));
  await conn.connect();
  platform.faults.rateLimit(5);
  const employmentId = platform.world.employmentId;
  const sends = Array.from({ length: 15 }, (_, n) =>
    conn.send(
      { type: 'message', employmentId, messageId: `msg_${n}`, content: `${n}` },
      { until: 'confirmed' },
    ),
  );
  await Promise.all(sends);
  expect(ids).toEqual(Array.from({ length: 15 }, (_, n) => `msg_${n}`));
  expect(refusals.length).toBeGreaterThan(0);
  expect(refusals.every((code) => code === 'RATE_LIMITED')).toBe(true);
});

it('malformed frames from the platform are counted and the connection stays up', async () => {
  const { platform, conn } = await setup();
  const frames: ServerFrame[] = [];
  conn.on('frame', (frame) => frames.push(frame));
  await conn.connect();
  platform.faults.malformed(12);
  platform.sendMessage({ employmentId: platform.world.employmentId, content: 'after the garbage' });
  await pollUntil(() => frames.length === 1, 'the message after the malformed frames');
  expect(Object.values(conn.stats.rejected).reduce((a, b) => a + (b ?? 0), 0)).toBe(12);
  expect(conn.state).toBe('open');
  expect(platform.stats.connectionsOpened).toBe(1);
});

it('stopPongs: the hung connection is replaced within the pong timeout (fake timers)', async () => {
  const { platform, conn } = await setup({ reconnect: { random: () => 0.5 } });
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  await conn.connect();
  const disconnected = new Promise((resolve) => platform.once('disconnect', resolve));
  const start = Date.now();
  platform.faults.stopPongs(61_000);
  await vi.advanceTimersByTimeAsync(59_999);
  expect(conn.state).toBe('open');
  const retry = once(conn, 'retry');
  await vi.advanceTimersByTimeAsync(1);
  const [{ delay }] = await retry;
  await disconnected;
  expect(Date.now() - start).toBe(60_000);
  await vi.advanceTimersByTimeAsync(1_000); // the delay (0.5 × 1 s), and past the end of stopPongs
  await pollUntil(() => conn.state === 'open', 'the replacement socket');
  expect(delay).toBe(500);
  expect(platform.stats.connectionsOpened).toBe(2);
  // The new socket is answered again: it lives on (each step waits until the client has read the
  // platform's pong, proved by a JSON ping/pong round trip behind it).
  const agentId = platform.world.agent.id;
  for (let n = 0; n < 10; n++) {
    await vi.advanceTimersByTimeAsync(30_000);
    const pong = new Promise<void>((resolve) => {
      const onFrame = ({ frame }: { frame: { type: string } }): void => {
        if (frame.type !== 'pong') return;
        platform.off('frame', onFrame);
        resolve();
      };
      platform.on('frame', onFrame);
    });
    platform.push(agentId, { type: 'ping' });
    await pong;
  }
  expect(conn.state).toBe('open');
  expect(platform.stats.connectionsOpened).toBe(2);
});
