/**
 * The connection's schedules under fake timers, over real loopback sockets: heartbeat and dead
 * connections, the reconnect backoff, rate-limit retries, and timers released on close.
 *
 * Only setTimeout/setInterval/Date are faked: sockets need real I/O, and the waits on it poll with
 * setImmediate and performance.now, which stay real.
 */
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, type ConnectionOptions } from '../../src/connection/connection.js';
import { isC4cError } from '../../src/errors.js';
import { isUndeliverable, PASSING_RETRIES, refusalOf } from '../../src/connection/delivery.js';
import type { ClientFrame } from '../../src/protocol/frames.js';
import {
  pollUntil,
  roundTrip,
  seededRandom,
  startTestServer,
  type TestServer,
} from '../helpers/connection-server.js';

const TOKEN = 'cl_timer_test';
let server: TestServer | undefined;
const open: Connection[] = [];

async function setup(
  serverOptions: { autoPong?: boolean } = {},
  options: Partial<ConnectionOptions> = {},
): Promise<Connection> {
  server = await startTestServer(serverOptions);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const conn = new Connection({ url: server.url, token: TOKEN, ...options });
  open.push(conn);
  return conn;
}

function message(n: number): ClientFrame {
  return { type: 'message', employmentId: 1, messageId: `msg_${n}`, content: `m${n}` };
}

beforeEach(() => {
  server = undefined;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((conn) => conn.close()));
  vi.useRealTimers();
  await server?.close();
});

describe('heartbeat', () => {
  it('terminates a connection whose pongs stopped within the timeout, and replaces it', async () => {
    const conn = await setup({ autoPong: false }, { reconnect: { random: () => 0.5 } });
    await conn.connect();
    const first = await server!.connection(1);
    let pings = 0;
    first.ws.on('ping', () => (pings += 1));
    const openedAt = Date.now();
    const retry = once(conn, 'retry');

    await vi.advanceTimersByTimeAsync(59_999);
    await pollUntil(() => pings === 1, 'the ping at 30 s');
    expect(conn.state).toBe('open');

    await vi.advanceTimersByTimeAsync(1);
    const [{ delay, reason }] = await retry;
    expect(Date.now() - openedAt).toBe(60_000);
    expect(reason).toMatch(/1006/);
    expect(delay).toBe(500); // 0.5 × min(30 s, 1 s × 2⁰)

    const reopened = once(conn, 'open');
    await vi.advanceTimersByTimeAsync(delay);
    expect((await reopened)[0]).toEqual({ reconnected: true });
    expect(server!.sockets).toHaveLength(2);
  });

  it('keeps a healthy connection: a ping every interval, pongs keep it alive for an hour', async () => {
    const conn = await setup({}, { heartbeat: { interval: 30_000, timeout: 60_000 } });
    await conn.connect();
    const socket = await server!.connection(1);
    let pings = 0;
    socket.ws.on('ping', () => (pings += 1));
    for (let n = 1; n <= 120; n++) {
      await vi.advanceTimersByTimeAsync(30_000);
      await pollUntil(() => pings === n, `ping ${n}`);
      await roundTrip(socket); // the control pong has reached the client before time moves on
    }
    expect(conn.state).toBe('open');
    expect(server!.upgrades).toHaveLength(1);
  });

  it('never piles timers up across reconnects, and a long outage leaves no stale pong time behind', async () => {
    const conn = await setup({}, { reconnect: { random: () => 0.5 } });
    await conn.connect();
    expect(vi.getTimerCount()).toBe(2); // the ping interval and the pong deadline

    for (let n = 2; n <= 6; n++) {
      const retry = once(conn, 'retry');
      (await server!.connection(n - 1)).ws.terminate();
      const [{ delay }] = await retry;
      expect(vi.getTimerCount()).toBe(1); // only the reconnect timer
      const reopened = once(conn, 'open');
      await vi.advanceTimersByTimeAsync(delay);
      await reopened;
      expect(vi.getTimerCount()).toBe(2);
    }

    // A five-minute outage: the platform refuses every upgrade meanwhile.
    server!.refuseWith = 503;
    const down = once(conn, 'retry');
    (await server!.connection(6)).ws.terminate();
    let [{ delay }] = await down;
    const outageEnds = Date.now() + 5 * 60_000;
    while (Date.now() + delay < outageEnds) {
      const next = once(conn, 'retry');
      await vi.advanceTimersByTimeAsync(delay);
      [{ delay }] = await next;
    }
    server!.refuseWith = undefined;
    const reopened = once(conn, 'open');
    await vi.advanceTimersByTimeAsync(delay);
    await reopened;
    const socket = await server!.connection(7);
    let pings = 0;
    socket.ws.on('ping', () => (pings += 1));

    // The new socket counts its own pongs: it survives its first interval and every one after.
    for (let n = 1; n <= 10; n++) {
      await vi.advanceTimersByTimeAsync(30_000);
      await pollUntil(() => pings === n, `ping ${n}`);
      await roundTrip(socket);
    }
    expect(conn.state).toBe('open');
    expect(server!.sockets).toHaveLength(7);
    expect(vi.getTimerCount()).toBe(2);
  });
});

describe('reconnect backoff', () => {
  it('follows random(0, min(maxDelay, initialDelay × 2^(n−1))), capped, and resets after a stable open', async () => {
    const seed = 42;
    const conn = await setup(
      {},
      { reconnect: { initialDelay: 1_000, maxDelay: 8_000, stableAfter: 5_000, random: seededRandom(seed) } },
    );
    const expected = seededRandom(seed);
    const ceiling = (n: number): number => Math.min(8_000, 1_000 * 2 ** (n - 1));
    server!.refuseWith = 503;

    const observed: Array<{ attempt: number; delay: number }> = [];
    let retry = once(conn, 'retry');
    const connected = conn.connect();
    for (let n = 1; n <= 7; n++) {
      const [{ attempt, delay }] = await retry;
      observed.push({ attempt, delay });
      if (n === 7) server!.refuseWith = undefined;
      retry = once(conn, 'retry');
      await vi.advanceTimersByTimeAsync(delay);
    }
    await connected;
    const schedule = [1, 2, 3, 4, 5, 6, 7].map((n) => ({
      attempt: n,
      delay: Math.floor(expected() * ceiling(n)),
    }));
    expect(observed).toEqual(schedule);
    expect(observed.slice(3).every(({ delay }) => delay < 8_000)).toBe(true);
    expect(server!.upgrades).toHaveLength(8);

    // A connection that dropped at once does not count as success: the schedule goes on (attempt 8).
    (await server!.connection(1)).ws.terminate();
    const [flap] = await retry;
    expect(flap).toEqual({
      attempt: 8,
      delay: Math.floor(expected() * ceiling(8)),
      reason: expect.any(String),
    });
    retry = once(conn, 'retry');
    const reopened = once(conn, 'open');
    await vi.advanceTimersByTimeAsync(flap.delay);
    await reopened;

    // One that stayed open for stableAfter does: the next drop starts over at attempt 1.
    await vi.advanceTimersByTimeAsync(5_000);
    (await server!.connection(2)).ws.terminate();
    const [afterStable] = await retry;
    expect(afterStable).toEqual({
      attempt: 1,
      delay: Math.floor(expected() * ceiling(1)),
      reason: expect.any(String),
    });
  });

  it('gives up after maxAttempts with E_NETWORK', async () => {
    const conn = await setup({}, { reconnect: { maxAttempts: 3, random: () => 0.25 } });
    server!.refuseWith = 503;
    const connected = conn.connect().catch((error: unknown) => error);
    for (let n = 1; n <= 3; n++) {
      const [{ delay }] = await once(conn, 'retry');
      await vi.advanceTimersByTimeAsync(delay);
    }
    const error = await connected;
    expect(isC4cError(error, 'E_NETWORK')).toBe(true);
    expect((error as Error).message).toMatch(
      /gave up after 3 reconnect attempt\(s\).*HTTP 503.*reconnect\.maxAttempts/,
    );
    expect(server!.upgrades).toHaveLength(4);
    expect(conn.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('platform refusals of sent frames', () => {
  it('RATE_LIMITED puts the frame back and retries it with backoff, ahead of newer frames', async () => {
    const conn = await setup({}, { reconnect: { initialDelay: 1_000, random: () => 0.5 } });
    const refusals = new Map<string, number>();
    server = server!;
    server.onFrame = (frame, socket) => {
      const id = String(frame.messageId);
      const seen = refusals.get(id) ?? 0;
      if (id === 'msg_1' && seen < 2) {
        refusals.set(id, seen + 1);
        socket.ws.send(
          JSON.stringify({
            type: 'error',
            code: 'RATE_LIMITED',
            message: 'rate limit exceeded',
            details: { messageId: id },
          }),
        );
      }
    };
    await conn.connect();
    await conn.send(message(1));
    await pollUntil(() => conn.stats.requeued === 1, 'the first refusal');
    const second = conn.send(message(2));
    await pollUntil(() => conn.stats.queued === 2, 'msg_2 waiting behind msg_1');

    // Equal jitter: 1 000/2 + 0.5 × 1 000/2 = 750 ms; nothing goes out before.
    await vi.advanceTimersByTimeAsync(749);
    expect(server.received().map((f) => f.messageId)).toEqual(['msg_1']);
    await vi.advanceTimersByTimeAsync(1);
    await pollUntil(() => conn.stats.requeued === 2, 'the second refusal');
    expect(server.received().map((f) => f.messageId)).toEqual(['msg_1', 'msg_1']);

    // Second retry of the same frame: ceiling 2 000 → 1 500 ms.
    await vi.advanceTimersByTimeAsync(1_499);
    expect(server.received()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    await pollUntil(() => server!.received().length === 4, 'the retry and the next frame');
    expect(server.received().map((f) => f.messageId)).toEqual(['msg_1', 'msg_1', 'msg_1', 'msg_2']);
  });

  it('EMPLOYMENT_NOT_ACTIVE is reported once as undeliverable and never retried', async () => {
    const conn = await setup();
    server = server!;
    server.onFrame = (frame, socket) => {
      const refusal = {
        type: 'error',
        code: 'EMPLOYMENT_NOT_ACTIVE',
        message: 'employment 1 is not active',
        details: { messageId: frame.messageId },
      };
      socket.ws.send(JSON.stringify(refusal));
      socket.ws.send(JSON.stringify(refusal)); // the same refusal twice must still be one report
    };
    const undeliverable: unknown[] = [];
    const errors: unknown[] = [];
    conn.on('undeliverable', (info) => undeliverable.push(info));
    conn.on('platform-error', (frame) => errors.push(frame));
    await conn.connect();
    await conn.send(message(1));
    await pollUntil(() => errors.length === 2, 'both error frames');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(undeliverable).toEqual([
      {
        frame: expect.objectContaining({ messageId: 'msg_1' }),
        code: 'EMPLOYMENT_NOT_ACTIVE',
        message: 'employment 1 is not active',
      },
    ]);
    expect(server.received()).toHaveLength(1);
    expect(conn.stats.requeued).toBe(0);
  });

  it('a frame rate limited more than maxRetries times is reported undeliverable', async () => {
    const conn = await setup(
      {},
      { outbox: { maxRetries: 2 }, reconnect: { initialDelay: 100, random: () => 0 } },
    );
    server = server!;
    server.onFrame = (frame, socket) =>
      socket.ws.send(
        JSON.stringify({
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'slow down',
          details: { messageId: frame.messageId },
        }),
      );
    const undeliverable = once(conn, 'undeliverable');
    await conn.connect();
    await conn.send(message(1));
    for (let retry = 1; retry <= 2; retry++) {
      await pollUntil(() => conn.stats.requeued === retry, `refusal ${retry}`);
      await vi.advanceTimersByTimeAsync(100 * 2 ** (retry - 1)); // random 0 → exactly half the ceiling, then some
    }
    const [info] = await undeliverable;
    expect(info).toMatchObject({ code: 'RATE_LIMITED', frame: { messageId: 'msg_1' } });
    expect(server.received()).toHaveLength(3);
  });
});

describe('refusals: passing or for good', () => {
  const refuseEach =
    (code: string) => (frame: Record<string, unknown>, socket: { ws: { send(d: string): void } }) =>
      socket.ws.send(
        JSON.stringify({
          type: 'error',
          code,
          message: `refused: ${code}`,
          details: { messageId: frame.messageId },
        }),
      );

  it('sorts codes: RATE_LIMITED waits, a platform failure is passing, anything about the frame is for good', () => {
    expect(refusalOf({ code: 'RATE_LIMITED' })).toBe('rate-limited');
    expect(refusalOf({ code: 'ERROR', message: 'Too many requests' })).toBe('rate-limited');
    for (const code of ['INTERNAL_ERROR', 'SERVICE_UNAVAILABLE', 'GATEWAY_TIMEOUT', '503'])
      expect(refusalOf({ code }), code).toBe('passing');
    for (const code of [
      'VALIDATION_ERROR',
      'INVALID_FRAME',
      'EMPLOYMENT_NOT_ACTIVE',
      'NOT_FOUND',
      'FORBIDDEN',
      'SOMETHING_NEW',
    ])
      expect(refusalOf({ code, message: 'an internal field timed out' }), code).toBe('for-good');
  });

  it('VALIDATION_ERROR: a confirmed send rejects at once as undeliverable, and the frame is not sent again', async () => {
    const conn = await setup({}, { outbox: { maxRetries: Number.POSITIVE_INFINITY } });
    server!.onFrame = refuseEach('VALIDATION_ERROR');
    const undeliverable: unknown[] = [];
    conn.on('undeliverable', (info) => undeliverable.push(info));
    await conn.connect();
    const error = await conn.send(message(1), { until: 'confirmed' }).catch((e: unknown) => e);
    expect(isUndeliverable(error)).toBe(true);
    expect((error as Error).message).toBe(
      'the platform refused message msg_1 for good (VALIDATION_ERROR): refused: VALIDATION_ERROR',
    );
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(undeliverable).toEqual([expect.objectContaining({ code: 'VALIDATION_ERROR' })]);
    expect(server!.received()).toHaveLength(1);
    expect(conn.stats.requeued).toBe(0);
  });

  it('INTERNAL_ERROR is sent again with backoff, at most PASSING_RETRIES times even when rate limits are waited out', async () => {
    const conn = await setup(
      {},
      {
        outbox: { maxRetries: Number.POSITIVE_INFINITY },
        reconnect: { initialDelay: 100, maxDelay: 100, random: () => 0 },
      },
    );
    server!.onFrame = refuseEach('INTERNAL_ERROR');
    await conn.connect();
    const sent = conn.send(message(1), { until: 'confirmed' }).catch((e: unknown) => e);
    for (let retry = 1; retry <= PASSING_RETRIES; retry++) {
      await pollUntil(() => conn.stats.requeued === retry, `refusal ${retry}`);
      await vi.advanceTimersByTimeAsync(100);
    }
    const error = await sent;
    expect(isUndeliverable(error)).toBe(true);
    expect(server!.received()).toHaveLength(PASSING_RETRIES + 1);
    expect(new Set(server!.received().map((f) => f.messageId))).toEqual(new Set(['msg_1']));
  });
});

describe('timers on close', () => {
  it('leaves no timer behind from open, reconnecting or rate-limited states, and closes twice', async () => {
    const conn = await setup({}, { reconnect: { random: () => 0.5 } });
    await conn.connect();
    expect(vi.getTimerCount()).toBe(2);
    await Promise.all([conn.close(), conn.close()]);
    expect(vi.getTimerCount()).toBe(0);

    const second = new Connection({ url: server!.url, token: TOKEN, reconnect: { random: () => 0.5 } });
    open.push(second);
    await second.connect();
    const retry = once(second, 'retry');
    server!.refuseWith = 503;
    (await server!.connection(2)).ws.terminate();
    await retry;
    expect(vi.getTimerCount()).toBe(1);
    await second.close();
    await second.close();
    expect(vi.getTimerCount()).toBe(0);

    server!.refuseWith = undefined;
    const third = new Connection({ url: server!.url, token: TOKEN });
    open.push(third);
    server!.onFrame = (frame, socket) =>
      socket.ws.send(
        JSON.stringify({
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'slow',
          details: { messageId: frame.messageId },
        }),
      );
    await third.connect();
    await third.send(message(1));
    await pollUntil(() => third.stats.requeued === 1, 'the refusal');
    // The heartbeat pair, the rate-limit pause, and the delivery's acknowledgement timer (armed at
    // the first ping, it stops at its next firing when nothing waits for a proof).
    expect(vi.getTimerCount()).toBe(4);
    await third.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
