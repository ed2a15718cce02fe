/** The WebSocket endpoint, driven as an outside client would: real sockets on port 0. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../src/protocol/frames.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { waitFor } from '../helpers/wait.js';
import {
  connect,
  rest,
  threeAgents,
  upgradeStatus,
  type TestClient,
  type Json,
} from '../helpers/platform.js';

const nativeResponse = globalThis.Response;
let platform: Platform;
const clients: TestClient[] = [];
const open = async (token: string, options?: Parameters<typeof connect>[2]) => {
  const client = await connect(platform.wsUrl, token, options);
  clients.push(client);
  return client;
};

beforeEach(async () => {
  platform = await startPlatform({ seed: threeAgents });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await platform.close();
});

describe('connecting', () => {
  it('listens on 127.0.0.1 on a free port, REST and WebSocket on the same one', () => {
    expect(platform.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(platform.wsUrl).toBe(`ws://127.0.0.1:${platform.port}/ws`);
    expect(platform.port).toBeGreaterThan(0);
  });

  it("leaves the host program's global Request/Response alone", () => {
    expect(globalThis.Response).toBe(nativeResponse);
  });

  it('accepts the token as X-API-Key header (any case), as api_key query, or both', async () => {
    await open('cl_worker', { via: 'header' });
    await open('cl_boss', { via: 'query' });
    await open('cl_rival', { via: 'both' });
    const lower = new WebSocket(platform.wsUrl, { headers: { 'x-api-key': 'cl_worker' } });
    await new Promise((resolve, reject) => lower.once('open', resolve).once('error', reject));
    lower.close();
    expect(platform.stats.connectedAgents()).toEqual([1, 2, 3]);
  });

  it('refuses a bad token with HTTP 401 at the upgrade, in the header and in the query', async () => {
    expect(await upgradeStatus(platform.wsUrl, { 'X-API-Key': 'cl_wrong' })).toBe(401);
    expect(await upgradeStatus(`${platform.wsUrl}?api_key=cl_wrong`)).toBe(401);
    expect(await upgradeStatus(platform.wsUrl)).toBe(401);
    expect(platform.stats.connectionsOpened).toBe(0);
  });

  it('answers 404 for an upgrade anywhere but /ws', async () => {
    expect(await upgradeStatus(platform.wsUrl.replace('/ws', '/socket'), { 'X-API-Key': 'cl_worker' })).toBe(
      404,
    );
  });
});

describe('chat', () => {
  it('routes messages both ways between the two parties of an active employment, metadata kept', async () => {
    const boss = await open('cl_boss');
    const worker = await open('cl_worker');
    const frame = {
      type: 'message',
      employmentId: 123,
      messageId: 'msg_4a1c1c7e-9a6b-4d51-8a4e-0a6f0f3b1a11',
      timestamp: '2026-04-12T10:00:00Z',
      content: 'Please summarise the report',
      metadata: {
        format: 'text',
        language: 'en',
        attachments: [{ type: 'file', url: 'https://x/a.csv', name: 'a.csv', size: 1024 }],
      },
    };
    boss.send(frame);
    expect(await worker.next((f) => f.type === 'message')).toEqual(frame);

    worker.send({ type: 'message', employmentId: 123, content: 'Done: it says yes.' });
    const reply = await boss.next((f) => f.type === 'message');
    expect(reply).toMatchObject({ type: 'message', employmentId: 123, content: 'Done: it says yes.' });
    expect(reply.messageId).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(reply.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(boss.frames.filter((f) => f.type === 'message')).toHaveLength(1);
    expect(worker.frames.filter((f) => f.type === 'message')).toHaveLength(1);

    const history = await rest(platform.url, 'cl_worker').get('/agent/me/employments/123/messages');
    expect(history.body.data.messages.map((m: Json) => m.content)).toEqual([
      'Done: it says yes.',
      'Please summarise the report',
    ]);
    expect(history.body.data.messages[1]).toMatchObject({
      senderAgentId: 1,
      receiverAgentId: 2,
      messageId: frame.messageId,
      metadata: frame.metadata,
    });
  });

  it('delivers to every socket of the receiving agent', async () => {
    const boss = await open('cl_boss');
    const first = await open('cl_worker');
    const second = await open('cl_worker');
    boss.send({ type: 'message', employmentId: 123, content: 'to both' });
    await first.next((f) => f.content === 'to both');
    await second.next((f) => f.content === 'to both');
  });

  it('stores a message to an offline agent unread and does not push it when the agent connects', async () => {
    const boss = await open('cl_boss');
    boss.send({ type: 'message', employmentId: 123, content: 'while you were away', messageId: 'msg_away' });
    await waitFor(() => [...platform.state.messages.values()].find((m) => m.messageId === 'msg_away'));
    const worker = await open('cl_worker');
    // A later message proves the socket is live and that the earlier one was not pushed before it.
    boss.send({ type: 'message', employmentId: 123, content: 'now you are here' });
    await worker.next((f) => f.content === 'now you are here');
    expect(worker.frames.map((f) => f.content)).toEqual(['now you are here']);
    const history = await rest(platform.url, 'cl_worker').get('/agent/me/employments/123/messages');
    expect(history.body.data.messages.find((m: Json) => m.messageId === 'msg_away')).toMatchObject({
      readAt: null,
      content: 'while you were away',
    });
  });

  it('stores and delivers a resent messageId only once', async () => {
    const boss = await open('cl_boss');
    const worker = await open('cl_worker');
    const frame = { type: 'message', employmentId: 123, messageId: 'msg_once', content: 'once' };
    boss.send(frame);
    boss.send(frame);
    boss.send({ type: 'message', employmentId: 123, content: 'marker' });
    await worker.next((f) => f.content === 'marker');
    expect(worker.frames.filter((f) => f.messageId === 'msg_once')).toHaveLength(1);
    expect([...platform.state.messages.values()].filter((m) => m.messageId === 'msg_once')).toHaveLength(1);
  });

  it('lets a test act as the other party without a socket: sendMessage and POST /dev/messages', async () => {
    const worker = await open('cl_worker');
    platform.sendMessage({ employmentId: 123, content: 'in-process', metadata: { format: 'markdown' } });
    expect(await worker.next()).toMatchObject({
      type: 'message',
      employmentId: 123,
      content: 'in-process',
      metadata: { format: 'markdown' },
    });
    const posted = await rest(platform.url).post('/dev/messages', {
      employmentId: 123,
      content: 'over http',
    });
    expect(posted.status).toBe(201);
    expect(posted.body.data).toMatchObject({ senderAgentId: 1, receiverAgentId: 2, content: 'over http' });
    expect(await worker.next()).toMatchObject({
      content: 'over http',
      messageId: posted.body.data.messageId,
    });

    const boss = await open('cl_boss');
    await rest(platform.url).post('/dev/messages', {
      employmentId: 123,
      content: 'from the worker',
      from: 2,
    });
    expect(await boss.next()).toMatchObject({ content: 'from the worker' });
    const stranger = await rest(platform.url).post('/dev/messages', {
      employmentId: 123,
      content: 'x',
      from: 3,
    });
    expect(stranger.status).toBe(400);
    expect(stranger.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('pushes raw frames with platform.push', async () => {
    const worker = await open('cl_worker');
    expect(platform.push(2, '{"type":"ping","timestamp":1}')).toBe(1);
    expect(platform.push(2, { type: 'notification', domain: 'x', event: 'y', data: {} })).toBe(1);
    expect(await worker.next()).toEqual({ type: 'ping', timestamp: 1 });
    expect(await worker.next()).toMatchObject({ domain: 'x' });
    expect(platform.push(99, { type: 'ping' })).toBe(0);
  });
});

describe('read receipts', () => {
  it('a read frame marks messages read up to the given one and sends a receipt to the other party', async () => {
    const boss = await open('cl_boss');
    const worker = await open('cl_worker');
    for (const id of ['msg_r1', 'msg_r2', 'msg_r3'])
      boss.send({ type: 'message', employmentId: 123, messageId: id, content: id });
    await worker.next((f) => f.messageId === 'msg_r3');
    worker.send({
      type: 'read',
      employmentId: 123,
      messageId: 'msg_r2',
      lastReadMessageId: 'msg_r2',
      timestamp: '2026-04-12T10:00:00Z',
    });
    const receipt = await boss.next((f) => f.type === 'read');
    expect(receipt).toMatchObject({
      type: 'read',
      employmentId: 123,
      messageId: 'msg_r2',
      lastReadMessageId: 'msg_r2',
    });
    const byId = new Map([...platform.state.messages.values()].map((m) => [m.messageId, m]));
    expect(byId.get('msg_r1')!.readAt).not.toBeNull();
    expect(byId.get('msg_r2')!.readAt).not.toBeNull();
    expect(byId.get('msg_r3')!.readAt).toBeNull();
    expect(worker.frames.some((f) => f.type === 'read')).toBe(false);
  });

  it('POST …/messages/read returns the unread count and sends the receipt too', async () => {
    const boss = await open('cl_boss');
    for (const id of ['msg_a', 'msg_b', 'msg_c'])
      platform.sendMessage({ employmentId: 123, content: id, from: 1 });
    const ids = [...platform.state.messages.values()].map((m) => m.messageId);
    const result = await rest(platform.url, 'cl_worker').post('/agent/me/employments/123/messages/read', {
      lastReadMessageId: ids[0],
    });
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ unreadCount: 2 });
    expect(await boss.next((f) => f.type === 'read')).toMatchObject({
      employmentId: 123,
      lastReadMessageId: ids[0],
    });
    const all = await rest(platform.url, 'cl_worker').post('/agent/me/employments/123/messages/read', {
      lastReadMessageId: ids[2],
    });
    expect(all.body.data).toEqual({ unreadCount: 0 });
  });
});

describe('error frames', () => {
  it('EMPLOYMENT_NOT_ACTIVE for a message into a terminated employment, with details.messageId; nothing stored', async () => {
    const rival = await open('cl_rival');
    rival.send({ type: 'message', employmentId: 124, messageId: 'msg_refused', content: 'hello?' });
    const error = await rival.next((f) => f.type === 'error');
    expect(error).toMatchObject({
      code: 'EMPLOYMENT_NOT_ACTIVE',
      details: { messageId: 'msg_refused', employmentId: 124 },
    });
    expect(error.message).toMatch(/terminated, not active/);
    expect([...platform.state.messages.values()]).toHaveLength(0);
  });

  it('NOT_FOUND for an unknown employment, or one the agent is not a party of', async () => {
    const rival = await open('cl_rival');
    rival.send({ type: 'message', employmentId: 999, messageId: 'msg_nowhere', content: 'x' });
    expect(await rival.next()).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
      details: { messageId: 'msg_nowhere' },
    });
    rival.send({ type: 'message', employmentId: 123, messageId: 'msg_not_mine', content: 'x' });
    expect(await rival.next()).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
      details: { messageId: 'msg_not_mine' },
    });
    rival.send({ type: 'read', employmentId: 124, lastReadMessageId: 'msg_unknown' });
    expect(await rival.next()).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('INVALID_FRAME for malformed, oversized, unknown and binary frames; the connection and the server stay up', async () => {
    const boss = await open('cl_boss');
    const worker = await open('cl_worker');
    const bad: [string | Buffer, string][] = [
      ['{"type":"message",', 'not-json'],
      ['[1,2,3]', 'not-object'],
      ['"just a string"', 'not-object'],
      ['{"type":"teleport","messageId":"msg_tp"}', 'unknown-type'],
      ['{"content":"no type"}', 'unknown-type'],
      ['{"type":"notification","domain":"task","event":"x","data":{}}', 'unknown-type'],
      ['{"type":"message","employmentId":"abc","content":"x","messageId":"msg_bad_id"}', 'invalid'],
      ['{"type":"message","employmentId":123}', 'invalid'],
      ['{"type":"read"}', 'invalid'],
      [
        JSON.stringify({
          type: 'message',
          employmentId: 123,
          messageId: 'msg_huge',
          content: 'x'.repeat(MAX_FRAME_BYTES),
        }),
        'too-large',
      ],
    ];
    for (const [frame, reason] of bad) {
      worker.send(frame);
      const error = await worker.next((f) => f.type === 'error');
      expect(error, String(frame).slice(0, 80)).toMatchObject({ code: 'INVALID_FRAME', details: { reason } });
      expect(error.message.length).toBeGreaterThan(10);
    }
    expect(worker.frames.find((f) => f.details?.reason === 'unknown-type')!.details.messageId).toBe('msg_tp');
    expect(worker.frames.find((f) => f.details?.messageId === 'msg_bad_id')).toBeDefined();

    worker.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await worker.next((f) => f.type === 'error')).toMatchObject({
      code: 'INVALID_FRAME',
      details: { reason: 'binary' },
    });
    worker.send({ type: 'read', employmentId: 123 });
    expect(await worker.next((f) => f.type === 'error')).toMatchObject({ code: 'INVALID_FRAME' });

    // Still up, both ways, and nothing was stored from the bad frames.
    worker.send({ type: 'message', employmentId: 123, content: 'still here' });
    expect(await boss.next((f) => f.type === 'message')).toMatchObject({ content: 'still here' });
    expect(worker.ws.readyState).toBe(WebSocket.OPEN);
    expect([...platform.state.messages.values()].map((m) => m.content)).toEqual(['still here']);
  });
});

describe('heartbeat', () => {
  it('answers a JSON ping with a pong carrying the same timestamp', async () => {
    const worker = await open('cl_worker');
    worker.send({ type: 'ping', timestamp: '2026-04-12T10:00:00Z' });
    expect(await worker.next()).toEqual({ type: 'pong', timestamp: '2026-04-12T10:00:00Z' });
    worker.send({ type: 'ping' });
    expect(await worker.next()).toMatchObject({ type: 'pong', timestamp: expect.any(String) });
  });

  it('answers control pings with a pong', async () => {
    const worker = await open('cl_worker');
    const pong = new Promise<Buffer>((resolve) => worker.ws.once('pong', resolve));
    worker.ws.ping('are you there');
    expect(String(await pong)).toBe('are you there');
  });
});

describe('dead clients', () => {
  let own: Platform;
  afterEach(async () => {
    vi.useRealTimers();
    await own.close();
  });

  it('pings each client every 30 s and terminates one silent for more than 60 s (fake clock, real sockets)', async () => {
    // Only the heartbeat's interval and clock are fake; socket I/O runs for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    own = await startPlatform();
    const alive = await connect(own.wsUrl, own.world.employer.token);
    const silent = await connect(own.wsUrl, own.world.agent.token, { autoPong: false });
    let silentPings = 0;
    silent.ws.on('ping', () => silentPings++);
    const disconnect = new Promise<{ agentId: number }>((resolve) => own.once('disconnect', resolve));
    let disconnects = 0;
    own.on('disconnect', () => disconnects++);

    // One heartbeat tick; the alive client's control pong is processed before its JSON ping is
    // answered (one ordered socket), so the JSON pong proves the platform has seen it.
    const tick = async (n: number) => {
      const pinged = new Promise<void>((resolve) => alive.ws.once('ping', () => resolve()));
      vi.advanceTimersByTime(30_000);
      await pinged;
      alive.send({ type: 'ping', timestamp: `tick ${n}` });
      await alive.next((f) => f.timestamp === `tick ${n}`);
    };
    await tick(1); // t = 30 s: both pinged
    await tick(2); // t = 60 s: the silent one is at the limit, not past it
    expect(disconnects).toBe(0);
    expect(silent.ws.readyState).toBe(WebSocket.OPEN);
    vi.advanceTimersByTime(30_000); // t = 90 s: silent for 90 s
    expect(await silent.closed).toBe(1006);
    expect((await disconnect).agentId).toBe(own.world.agent.id);
    expect(silentPings).toBeGreaterThanOrEqual(1);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(own.stats.connectedAgents()).toEqual([own.world.employer.id]);
    await alive.close();
  });

  it('honours a custom heartbeat', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    own = await startPlatform({ heartbeat: { interval: 1_000, timeout: 2_500 } });
    const silent = await connect(own.wsUrl, own.world.agent.token, { autoPong: false });
    const pinged = new Promise<void>((resolve) => silent.ws.once('ping', () => resolve()));
    vi.advanceTimersByTime(1_000);
    await pinged;
    vi.advanceTimersByTime(2_000);
    expect(await silent.closed).toBe(1006);
  });
});

describe('in-process helpers', () => {
  it('notify, completeEmployment and timeoutInvocation push what the platform would', async () => {
    const worker = await open('cl_worker');
    const frame = platform.notify(2, 'task-accepted', { taskId: 7, applicationId: 8, taskTitle: 'T' });
    expect(await worker.next()).toEqual(frame);
    expect(frame).toMatchObject({ domain: 'task', event: 'task_application_accepted', data: { taskId: 7 } });
    platform.completeEmployment(123);
    expect(await worker.next()).toMatchObject({ event: 'employment_completed', data: { employmentId: 123 } });
    expect(() => platform.completeEmployment(123)).toThrow(/only an active one/);
    expect(() => platform.timeoutInvocation(99)).toThrow(/invocation 99 not found/);
  });
});

describe('close', () => {
  it('is safe to call twice, closes every socket and frees the port', async () => {
    const own = await startPlatform();
    const worker = await connect(own.wsUrl, own.world.agent.token);
    await Promise.all([own.close(), own.close()]);
    await own.close();
    expect(await worker.closed).toBe(1006);
    await expect(fetch(`${own.url}/health`)).rejects.toThrow();
    const again = await startPlatform({ port: own.port });
    expect(again.port).toBe(own.port);
    await expect(startPlatform({ port: own.port })).rejects.toThrow(/EADDRINUSE.*--port 0/);
    await again.close();
  });
});
