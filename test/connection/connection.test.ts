/**
 * The connection against a raw `ws` server on port 0: authentication, JSON heartbeat, malformed
 * frames, the outbox across a server-side socket destroy, and closing. Real timers here; the
 * schedules (heartbeat, backoff, rate-limit retry) are in connection-timers.test.ts.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection, type ConnectionOptions, type ConnectionState } from '../../src/connection/connection.js';
import { isC4cError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames.js';
import {
  pollUntil,
  roundTrip,
  startTestServer,
  type ServerSocket,
  type TestServer,
} from '../helpers/connection-server.js';

const TOKEN = 'cl_test_secret_token';
let server: TestServer;
const open: Connection[] = [];

function connection(options: Partial<ConnectionOptions> = {}): Connection {
  const conn = new Connection({
    url: server.url,
    token: TOKEN,
    reconnect: { initialDelay: 20, maxDelay: 50 },
    ...options,
  });
  open.push(conn);
  return conn;
}

function message(n: number): ClientFrame {
  return { type: 'message', employmentId: 1, messageId: `msg_${n}`, content: `m${n}` };
}

/** A connection to a platform that answers no ping by itself; the pings it gets, in order. */
async function withSilentPlatform(): Promise<{
  conn: Connection;
  socket: ServerSocket;
  pings: string[];
}> {
  await server.close();
  server = await startTestServer({ autoPong: false });
  const conn = connection();
  await conn.connect();
  const socket = await server.connection(1);
  const pings: string[] = [];
  socket.ws.on('ping', (data) => pings.push(String(data)));
  return { conn, socket, pings };
}

const contents = (frames: Array<Record<string, unknown>>): unknown[] =>
  frames.filter((f) => f.type === 'message').map((f) => f.content);

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((conn) => conn.close()));
  await server.close();
});

describe('authentication', () => {
  it('sends the token both as header X-API-Key and as query api_key, with no subprotocol, Origin or deflate', async () => {
    const conn = connection();
    await conn.connect();
    expect(server.upgrades).toHaveLength(1);
    const { url, headers } = server.upgrades[0]!;
    expect(headers['x-api-key']).toBe(TOKEN);
    expect(new URL(url, 'http://x').searchParams.get('api_key')).toBe(TOKEN);
    expect(new URL(url, 'http://x').pathname).toBe('/ws');
    expect(headers['sec-websocket-protocol']).toBeUndefined();
    expect(headers.origin).toBeUndefined();
    expect(headers['sec-websocket-extensions']).toBeUndefined();
    expect(conn.state).toBe('open');
  });

  it('stops on HTTP 401 with E_AUTH and never retries', async () => {
    server.refuseWith = 401;
    const conn = connection({ reconnect: { initialDelay: 1, maxDelay: 1 } });
    const states: ConnectionState[] = [];
    conn.on('state', (state) => states.push(state));
    const error = await conn.connect().catch((e: unknown) => e);
    expect(isC4cError(error, 'E_AUTH')).toBe(true);
    expect((error as Error).message).toMatch(
      /^authentication failed: invalid API key — check C4C_API_TOKEN \/ platform\.token/,
    );
    expect((error as Error).message).not.toContain(TOKEN);
    expect(states).toEqual(['connecting', 'closing', 'closed']);
    // A retry would come within 1 ms; give it many event-loop turns to prove none does.
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(server.upgrades).toHaveLength(1);
    await expect(conn.send(message(1))).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  it('a 401 on a reconnect emits E_AUTH and ends in closed, rejecting what waited', async () => {
    const conn = connection();
    await conn.connect();
    const failed = once(conn, 'error');
    server.refuseWith = 401;
    (await server.connection(1)).ws.terminate();
    const [error] = await failed;
    expect(isC4cError(error, 'E_AUTH')).toBe(true);
    await pollUntil(() => conn.state === 'closed', 'closed');
    expect(server.upgrades).toHaveLength(2);
    await expect(conn.send(message(1))).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  it('other refusals (503) are retried', async () => {
    server.refuseWith = 503;
    const conn = connection();
    const connected = conn.connect();
    await once(conn, 'retry');
    await once(conn, 'retry');
    server.refuseWith = undefined;
    await connected;
    expect(server.upgrades.length).toBeGreaterThanOrEqual(3);
  });

  it('never writes the token to the log, even on failures and reconnects', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination });
    const conn = connection({ logger });
    await conn.connect();
    server.refuseWith = 503;
    (await server.connection(1)).ws.terminate();
    await once(conn, 'retry');
    server.refuseWith = 401;
    // No 'error' listener and no pending connect(): the failure is logged, once.
    await pollUntil(() => conn.state === 'closed', 'closed after the 401');
    const log = lines.join('');
    expect(log).toContain('api_key=[redacted]');
    expect(log).toContain('reconnecting in');
    expect(lines.filter((line) => line.includes('authentication failed'))).toHaveLength(1);
    expect(log).not.toContain(TOKEN);
  });
});

describe('frames in', () => {
  it('answers a JSON ping with a pong at once and does not emit it', async () => {
    const conn = connection();
    const frames: ServerFrame[] = [];
    conn.on('frame', (frame) => frames.push(frame));
    await conn.connect();
    const socket = await server.connection(1);
    socket.ws.send(JSON.stringify({ type: 'ping', timestamp: '2026-04-12T10:00:00Z' }));
    await pollUntil(() => socket.frames.length === 1, 'the pong');
    expect(socket.frames[0]).toEqual({ type: 'pong', timestamp: '2026-04-12T10:00:00Z' });
    socket.ws.send(JSON.stringify({ type: 'ping' }));
    await pollUntil(() => socket.frames.length === 2, 'the second pong');
    expect(socket.frames[1]).toEqual({
      type: 'pong',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(frames).toEqual([]);
  });

  it('rejects malformed frames with a reason and a count, and stays up', async () => {
    const conn = connection();
    const rejected: Array<{ reason: string; count: number }> = [];
    const frames: ServerFrame[] = [];
    conn.on('rejected', ({ reason, count }) => rejected.push({ reason, count }));
    conn.on('frame', (frame) => frames.push(frame));
    await conn.connect();
    const { ws } = await server.connection(1);
    ws.send('not json {');
    ws.send('[1,2]');
    ws.send(JSON.stringify({ type: 'telepathy' }));
    ws.send(JSON.stringify({ type: 'message', employmentId: -1, content: 3 }));
    ws.send(
      JSON.stringify({
        type: 'message',
        employmentId: 1,
        messageId: 'x',
        timestamp: 't',
        content: 'x'.repeat(1024 * 1024 + 1),
      }),
    );
    ws.send('also not json');
    ws.send(
      JSON.stringify({
        type: 'message',
        employmentId: 7,
        messageId: 'm',
        timestamp: 't',
        content: 'still here',
      }),
    );
    await pollUntil(() => frames.length === 1, 'the valid frame after the bad ones');
    expect(rejected).toEqual([
      { reason: 'not-json', count: 1 },
      { reason: 'not-object', count: 1 },
      { reason: 'unknown-type', count: 1 },
      { reason: 'invalid', count: 1 },
      { reason: 'too-large', count: 1 },
      { reason: 'not-json', count: 2 },
    ]);
    expect(frames[0]).toMatchObject({ content: 'still here', employmentId: 7 });
    expect(conn.stats.rejected).toEqual({
      'not-json': 2,
      'not-object': 1,
      'unknown-type': 1,
      invalid: 1,
      'too-large': 1,
    });
    expect(conn.state).toBe('open');
    expect(server.upgrades).toHaveLength(1);
  });

  it('delivers error frames as platform-error and as frame; a throwing listener does not break the socket', async () => {
    const conn = connection();
    const errors: unknown[] = [];
    const frames: ServerFrame[] = [];
    conn.on('platform-error', (frame) => errors.push(frame));
    conn.on('frame', (frame) => {
      frames.push(frame);
      if (frames.length === 1) throw new Error('listener bug');
    });
    await conn.connect();
    const { ws } = await server.connection(1);
    ws.send(JSON.stringify({ type: 'error', code: 'NOT_FOUND', message: 'no such employment' }));
    ws.send(JSON.stringify({ type: 'read', employmentId: 1, lastReadMessageId: 'msg_1' }));
    await pollUntil(() => frames.length === 2, 'both frames');
    expect(errors).toEqual([{ type: 'error', code: 'NOT_FOUND', message: 'no such employment' }]);
    expect(conn.state).toBe('open');
  });
});

describe('outbox', () => {
  it('queues frames sent before connect() and writes them first, in order', async () => {
    const conn = connection();
    const sent = [1, 2, 3].map((n) => conn.send(message(n)));
    expect(conn.stats.queued).toBe(3);
    await conn.connect();
    await Promise.all(sent);
    await conn.send(message(4));
    await pollUntil(() => server.received().length === 4, 'four frames');
    expect(contents(server.received())).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('fills messageId and timestamp of a message frame and resolves with the frame as sent', async () => {
    const conn = connection();
    await conn.connect();
    const sent = await conn.send({ type: 'message', employmentId: 3, content: 'hello' });
    expect(sent).toMatchObject({ type: 'message', employmentId: 3, content: 'hello' });
    expect(sent.type === 'message' && sent.messageId).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(sent.type === 'message' && sent.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await pollUntil(() => server.received().length === 1, 'the frame');
    expect(server.received()[0]).toEqual(sent);
  });

  it('keeps order across a server-side socket destroy: waiting frames before new ones', async () => {
    const conn = connection();
    await conn.connect();
    await Promise.all([1, 2, 3].map((n) => conn.send(message(n))));
    const first = await server.connection(1);
    await pollUntil(() => first.frames.length === 3, 'the first batch');

    server.refuseWith = 503; // hold the reconnect so the next frames surely wait
    const down = once(conn, 'retry');
    first.ws.terminate();
    await down;
    const waiting = [4, 5, 6, 7].map((n) => conn.send(message(n)));
    expect(conn.stats.queued).toBe(4);
    // Sent from the 'open' listener: must come after the frames that waited.
    conn.once('open', ({ reconnected }) => {
      expect(reconnected).toBe(true);
      void conn.send(message(8));
    });
    server.refuseWith = undefined;
    const second = await server.connection(2);
    await Promise.all(waiting);
    await pollUntil(() => second.frames.length === 5, 'the waiting frames and the new one');
    expect(contents(second.frames)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
  });

  it('a drop loses nothing: frames the platform had not confirmed are sent again, in order, with their ids', async () => {
    const conn = connection();
    await conn.connect();
    const first = await server.connection(1);
    // The server stops reading (a hung peer): writes still succeed into socket buffers, pongs stop.
    (first.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    const written = Array.from({ length: 40 }, (_, n) =>
      conn.send({ ...message(n), content: `${n}:${big}` }),
    );
    const confirmed = conn.send(message(40), { until: 'confirmed' });
    await pollUntil(() => conn.stats.framesOut > 0, 'some writes');
    first.ws.terminate();
    await Promise.all(written);
    expect(await conn.flush(5_000)).toBe(true);
    expect(await confirmed).toMatchObject({ messageId: 'msg_40' });
    const second = await server.connection(2);
    const ids = second.frames.map((f) => f.messageId);
    expect(ids).toEqual(Array.from({ length: 41 }, (_, n) => `msg_${n}`));
    expect(conn.stats).toMatchObject({ queued: 0, inflight: 0, unconfirmed: 0 });
    expect(conn.stats.requeued).toBeGreaterThan(0);
  });

  it("until: 'confirmed' resolves only after the platform's pong proves the frame was handled", async () => {
    const conn = connection();
    await conn.connect();
    const socket = await server.connection(1);
    (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    let written = false;
    let confirmed = false;
    void conn.send(message(1)).then(() => (written = true));
    void conn.send(message(2), { until: 'confirmed' }).then(() => (confirmed = true));
    await pollUntil(() => written && conn.stats.inflight === 0, 'the writes');
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(confirmed).toBe(false);
    expect(conn.stats.unconfirmed).toBe(2);
    (socket.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await pollUntil(() => confirmed, 'the confirmation');
    expect(conn.stats).toMatchObject({ unconfirmed: 0, confirmed: 2 });
  });

  it("a burst's first batch carries its own ping: its frames are proven before the rest of the burst", async () => {
    const { conn, socket, pings } = await withSilentPlatform();
    const confirmed: number[] = [];
    for (let n = 1; n <= 10; n++)
      void conn.send(message(n), { until: 'confirmed' }).then(() => confirmed.push(n));
    await pollUntil(() => socket.frames.length === 10 && pings.length === 2, 'the burst and its pings');
    expect(pings).toEqual(['ack-2', 'ack-10']); // after the first batch (2 frames) and at the end of the tick

    socket.ws.pong(pings[0]);
    await pollUntil(() => confirmed.length === 2, 'the first batch proven');
    expect(confirmed).toEqual([1, 2]);
    expect(conn.stats.unconfirmed).toBe(8);
    socket.ws.pong(pings[1]);
    await pollUntil(() => confirmed.length === 10, 'the rest proven');
    expect(confirmed).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps at most four delivery pings waiting for their pong; the newest pong proves all before it', async () => {
    const { conn, socket, pings } = await withSilentPlatform();
    let confirmed = 0;
    for (let burst = 0; burst < 10; burst++) {
      for (let k = 1; k <= 3; k++)
        void conn.send(message(burst * 3 + k), { until: 'confirmed' }).then(() => (confirmed += 1));
      await pollUntil(() => socket.frames.length === (burst + 1) * 3, `burst ${burst + 1}`);
    }
    await roundTrip(socket);
    // A platform owes at most four pongs however many bursts go out (a ws server drops a peer at 60).
    expect(pings).toEqual(['ack-2', 'ack-3', 'ack-5', 'ack-6']);

    socket.ws.pong('ack-6');
    await pollUntil(() => confirmed === 6 && pings.length === 5, 'six proven, and a ping for the rest');
    expect(pings[4]).toBe('ack-30');
    socket.ws.pong('ack-30');
    await pollUntil(() => confirmed === 30, 'all proven');
    expect(conn.stats).toMatchObject({ unconfirmed: 0, confirmed: 30 });
  });

  it('refuses with E_BACKLOG when the outbox is full, without losing what waits', async () => {
    const conn = connection({ outbox: { limit: 3 } });
    const queued = [1, 2, 3].map((n) => conn.send(message(n)));
    await expect(conn.send(message(4))).rejects.toMatchObject({
      code: 'E_BACKLOG',
      message: expect.stringMatching(/outbox\.limit/),
    });
    await conn.connect();
    await Promise.all(queued);
    await pollUntil(() => server.received().length === 3, 'three frames');
    expect(contents(server.received())).toEqual(['m1', 'm2', 'm3']);
  });

  it('flush() resolves true once everything is written, false on timeout while down', async () => {
    const conn = connection();
    void conn.send(message(1)).catch(() => {});
    expect(await conn.flush(20)).toBe(false);
    await conn.connect();
    expect(await conn.flush(1_000)).toBe(true);
  });
});

describe('close', () => {
  it('is safe to call twice, rejects waiting frames with E_CLOSED and leaves no timer', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const conn = connection();
    await conn.connect();
    server.refuseWith = 503;
    const down = once(conn, 'retry');
    (await server.connection(1)).ws.terminate();
    await down;
    const waiting = conn.send(message(1));
    const states: ConnectionState[] = [];
    conn.on('state', (state) => states.push(state));
    await Promise.all([conn.close(), conn.close()]);
    await conn.close();
    await expect(waiting).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(states).toEqual(['closing', 'closed']);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(
      timersBefore,
    );
    await expect(conn.connect()).rejects.toMatchObject({ code: 'E_CLOSED' });
  });

  it('closes an open socket with 1000 and the server sees it', async () => {
    const conn = connection();
    await conn.connect();
    const socket = await server.connection(1);
    const closed = once(socket.ws, 'close');
    const closeEvent = once(conn, 'close');
    await conn.close();
    const [code] = await closed;
    expect(code).toBe(1000);
    expect((await closeEvent)[0]).toMatchObject({ code: 1000, reconnect: false });
    expect(conn.state).toBe('closed');
  });

  it('close() while connecting rejects connect() with E_CLOSED', async () => {
    server.refuseWith = 503;
    const conn = connection({ reconnect: { initialDelay: 10_000, maxDelay: 10_000 } });
    const connecting = conn.connect();
    await conn.close();
    await expect(connecting).rejects.toMatchObject({ code: 'E_CLOSED' });
  });
});
