/** Fault switches: each has an effect an outside client observes; refused unless enabled. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { isC4cError } from '../../src/errors.js';
import { decodeServerFrame } from '../../src/protocol/frames.js';
import { MALFORMED_FRAMES, startPlatform, type Platform } from '../../src/platform/index.js';
import { connect, rest, type TestClient } from '../helpers/platform.js';

let platform: Platform;
const clients: TestClient[] = [];
const open = async (token: string, options?: Parameters<typeof connect>[2]) => {
  const client = await connect(platform.wsUrl, token, options);
  clients.push(client);
  return client;
};
const faults = (body: unknown) => rest(platform.url).post('/dev/faults', body);

beforeEach(async () => {
  platform = await startPlatform({ faults: true });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await platform.close();
});

describe('refused unless enabled', () => {
  it('answers 403 FAULTS_DISABLED over HTTP and throws in-process, changing nothing', async () => {
    const plain = await startPlatform();
    const worker = await connect(plain.wsUrl, plain.world.agent.token);
    const reply = await rest(plain.url).post('/dev/faults', { dropConnections: true });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({
      success: false,
      error: { code: 'FAULTS_DISABLED', message: expect.stringContaining('--faults') },
    });
    expect(() => plain.faults.dropConnections()).toThrow(/faults: true/);
    let thrown: unknown;
    try {
      plain.faults.rateLimit(1);
    } catch (error) {
      thrown = error;
    }
    expect(isC4cError(thrown, 'E_CONFIG')).toBe(true);
    expect(worker.ws.readyState).toBe(WebSocket.OPEN);
    expect(plain.stats.connectedAgents()).toEqual([plain.world.agent.id]);
    await worker.close();
    await plain.close();
  });

  it('rejects a bad switch body with VALIDATION_ERROR', async () => {
    for (const body of [
      {},
      { stopPongs: -1 },
      { malformed: 'lots' },
      { rateLimit: { perSecond: 'x' } },
      { explode: true },
    ]) {
      const reply = await faults(body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.code).toBe('VALIDATION_ERROR');
    }
  });
});

describe('dropConnections', () => {
  it('destroys every agent socket with no close frame (1006), over HTTP and in-process', async () => {
    const a = await open(platform.world.agent.token);
    const b = await open(platform.world.employer.token);
    const reply = await faults({ dropConnections: true });
    expect(reply.body.data).toEqual({ dropped: 2 });
    expect(await a.closed).toBe(1006);
    expect(await b.closed).toBe(1006);

    const c = await open(platform.world.agent.token);
    expect(platform.faults.dropConnections()).toBe(1);
    expect(await c.closed).toBe(1006);
    // The server itself stays up.
    await open(platform.world.agent.token);
  });
});

describe('stopPongs', () => {
  it('answers neither control nor JSON pings for the given time, then answers again', async () => {
    const a = await open(platform.world.agent.token);
    let pongs = 0;
    a.ws.on('pong', () => pongs++);
    expect((await faults({ stopPongs: 60_000 })).status).toBe(200);
    a.ws.ping();
    a.send({ type: 'ping', timestamp: 'one' });
    // The marker is handled after both pings (one ordered socket); a frame pushed after it arrives
    // after any pong the platform might have sent, so by then the absence of pongs is a fact.
    const handled = new Promise<void>((resolve) => platform.once('message', () => resolve()));
    a.send({ type: 'message', employmentId: platform.world.employmentId, content: 'marker' });
    await handled;
    platform.push(platform.world.agent.id, { type: 'ping', timestamp: 'after' });
    await a.next((f) => f.timestamp === 'after');
    expect(pongs).toBe(0);
    expect(a.frames.some((f) => f.type === 'pong')).toBe(false);

    platform.faults.stopPongs(0);
    const pong = new Promise((resolve) => a.ws.once('pong', resolve));
    a.ws.ping();
    await pong;
    a.send({ type: 'ping', timestamp: 'two' });
    expect(await a.next((f) => f.type === 'pong')).toEqual({ type: 'pong', timestamp: 'two' });
  });
});

describe('stopDataPongs', () => {
  it('leaves pings that carry data unanswered on the sockets open now, for good; empty pings and later sockets are answered', async () => {
    const a = await open(platform.world.agent.token);
    const pongs: string[] = [];
    a.ws.on('pong', (data: Buffer) => pongs.push(data.toString() || '(empty)'));
    expect(await faults({ stopDataPongs: true })).toMatchObject({
      status: 200,
      body: { data: { dataPongsStopped: 1 } },
    });
    a.ws.ping('ack-1');
    const empty = new Promise((resolve) => a.ws.once('pong', resolve));
    a.ws.ping();
    await empty;
    // Pongs come in ping order on one socket: the empty one answered means the data one never will be.
    expect(pongs).toEqual(['(empty)']);
    const b = await open(platform.world.agent.token);
    const answered = new Promise<Buffer>((resolve) => b.ws.once('pong', resolve));
    b.ws.ping('ack-1');
    expect((await answered).toString()).toBe('ack-1');
    expect(platform.faults.stopDataPongs()).toBe(2);
  });
});

describe('rateLimit', () => {
  it('refuses messages beyond perSecond with RATE_LIMITED, naming each refused messageId, and stores none of them', async () => {
    const worker = await open(platform.world.agent.token);
    const employer = await open(platform.world.employer.token);
    expect((await faults({ rateLimit: { perSecond: 2 } })).body.data).toEqual({
      rateLimit: { perSecond: 2 },
    });
    for (let i = 1; i <= 5; i++)
      worker.send({
        type: 'message',
        employmentId: platform.world.employmentId,
        messageId: `msg_${i}`,
        content: `m${i}`,
      });
    const errors = [];
    for (let i = 0; i < 3; i++) errors.push(await worker.next((f) => f.type === 'error'));
    expect(errors.every((e) => e.code === 'RATE_LIMITED')).toBe(true);
    expect(errors.map((e) => e.details.messageId).sort()).toEqual(['msg_3', 'msg_4', 'msg_5']);
    await employer.next((f) => f.content === 'm2');
    const stored = [...platform.state.messages.values()].map((m) => m.messageId);
    expect(stored).toEqual(['msg_1', 'msg_2']);

    platform.faults.rateLimit(null);
    worker.send({
      type: 'message',
      employmentId: platform.world.employmentId,
      messageId: 'msg_after',
      content: 'free again',
    });
    await employer.next((f) => f.content === 'free again');
    expect((await faults({ rateLimit: null })).status).toBe(200);
  });
});

describe('malformed', () => {
  it('sends n malformed frames of assorted kinds to every connected agent, which a strict decoder rejects', async () => {
    const a = await open(platform.world.agent.token);
    const b = await open(platform.world.employer.token);
    expect((await faults({ malformed: 5 })).body.data).toEqual({ malformedSent: 10 });
    await import('../helpers/wait.js').then(({ waitFor }) =>
      waitFor(() => a.raw.length === 5 && b.raw.length === 5),
    );
    const reasons = a.raw.map((raw) => {
      const decoded = decodeServerFrame(raw);
      expect(decoded.ok).toBe(false);
      return decoded.ok ? 'ok' : decoded.reason;
    });
    expect(new Set(reasons)).toEqual(new Set(['not-json', 'not-object', 'unknown-type', 'invalid']));
    expect(b.raw).toEqual(a.raw);

    expect(platform.faults.malformed(MALFORMED_FRAMES.length)).toBe(2 * MALFORMED_FRAMES.length);
    const last = await a.next((f) => f.type === 'message' && f.messageId === 'msg_big', 10_000);
    expect(decodeServerFrame(a.raw.at(-1)!)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(last.content.length).toBeGreaterThan(1024 * 1024);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });
});
