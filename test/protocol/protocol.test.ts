/** The protocol contract: the exact frames and bodies of PROTOCOL.md decode; malformed ones are rejected with a reason. */
import { describe, expect, it } from 'vitest';
import {
  EVENT_NAMES,
  NOTIFICATIONS,
  closestEventName,
  notificationEventName,
  eventNameOf,
  toEvent,
  wireNotification,
} from '../../src/protocol/events.js';
import {
  MAX_FRAME_BYTES,
  classifyError,
  clientFrameSchema,
  decodeClientFrame,
  decodeServerFrame,
  newMessageId,
  rfc3339,
  serverFrameSchema,
} from '../../src/protocol/frames.js';
import { REPLY_SCHEMAS } from '../../src/protocol/replies.js';
import {
  createEmploymentBodySchema,
  envelopeSchema,
  historyPageSchema,
  historyQuerySchema,
  invokeServiceBodySchema,
  paths,
  submitInvocationBodySchema,
  wsUrlFor,
} from '../../src/protocol/rest.js';

// The frames exactly as PROTOCOL.md shows them (… replaced by values).
const MESSAGE = `{ "type": "message", "employmentId": 123, "messageId": "msg_4a1c1c7e-9a6b-4d51-8a4e-0a6f0f3b1a11",
  "timestamp": "2026-04-12T10:00:00Z", "content": "hello",
  "metadata": { "format": "text", "language": "zh", "attachments": [
    { "type": "file", "url": "https://example.com/a.csv", "name": "a.csv", "size": 1024 } ] } }`;
const NOTIFICATION = `{ "type": "notification", "domain": "task", "event": "task_application_accepted",
  "messageId": "msg_1", "timestamp": "2026-04-12T10:00:00Z", "data": { "taskTitle": "Translate", "publisherAgentName": "Boss" } }`;
const READ =
  '{ "type": "read", "employmentId": 123, "messageId": "msg_1", "lastReadMessageId": "msg_1", "timestamp": "2026-04-12T10:00:00Z" }';
const ERROR =
  '{ "type": "error", "code": "EMPLOYMENT_NOT_ACTIVE", "message": "employment not active", "details": { "messageId": "msg_1" } }';
const PING = '{ "type": "ping", "timestamp": "2026-04-12T10:00:00Z" }';
const PONG = '{ "type": "pong", "timestamp": "2026-04-12T10:00:00Z" }';

describe('server frames (platform → agent)', () => {
  it.each([
    ['message', MESSAGE],
    ['notification', NOTIFICATION],
    ['read', READ],
    ['error', ERROR],
    ['ping', PING],
    ['pong', PONG],
  ])('decodes the %s frame of PROTOCOL.md', (type, raw) => {
    const decoded = decodeServerFrame(raw);
    expect(decoded).toMatchObject({ ok: true, frame: { type } });
    if (decoded.ok) expect(decoded.frame).toEqual(JSON.parse(raw));
  });

  it('keeps unknown keys, unknown domains and events, and numeric heartbeat timestamps', () => {
    const decoded = decodeServerFrame(
      '{"type":"notification","domain":"wallet","event":"topped_up","data":{"amount":"5"},"extra":1}',
    );
    expect(decoded).toMatchObject({ ok: true, frame: { extra: 1, data: { amount: '5' } } });
    if (decoded.ok) expect(toEvent(decoded.frame)).toMatchObject({ name: 'notification' });
    expect(decodeServerFrame('{"type":"ping","timestamp":1712916000000}').ok).toBe(true);
    expect(
      decodeServerFrame('{"type":"notification","domain":"task","event":"task_completed"}'),
    ).toMatchObject({ ok: true, frame: { data: {} } });
  });

  it('hands on a message frame as parsed, unknown keys at every level kept, as the loose schema would', () => {
    const raw =
      '{"type":"message","employmentId":"0042","messageId":"msg_1","timestamp":"t","content":"hi","priority":2,' +
      '"metadata":{"format":"markdown","thread":"x","attachments":[{"url":"https://a","sha":"f00"}]}}';
    const decoded = decodeServerFrame(raw);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.frame).toEqual(JSON.parse(raw));
    expect(decoded.frame).toEqual(serverFrameSchema.parse(JSON.parse(raw)));
    expect(decoded.frame).toMatchObject({
      priority: 2,
      metadata: { thread: 'x', attachments: [{ sha: 'f00' }] },
    });
  });

  it.each([
    ['{"type":"message",', 'not-json'],
    ['[]', 'not-object'],
    ['null', 'not-object'],
    ['42', 'not-object'],
    ['{"type":"mystery"}', 'unknown-type'],
    ['{"content":"no type"}', 'unknown-type'],
    ['{"type":"message","employmentId":"one","messageId":"m","timestamp":"t","content":"x"}', 'invalid'],
    ['{"type":"message","employmentId":-1,"messageId":"m","timestamp":"t","content":"x"}', 'invalid'],
    ['{"type":"message","employmentId":1,"timestamp":"t","content":"x"}', 'invalid'],
    [
      '{"type":"message","employmentId":1,"messageId":"m","timestamp":"t","content":"x","metadata":{"attachments":[{"name":"no url"}]}}',
      'invalid',
    ],
    ['{"type":"notification","event":"x"}', 'invalid'],
    ['{"type":"error","message":"no code"}', 'invalid'],
    ['{"type":"read"}', 'invalid'],
  ])('rejects %s as %s, with a detail', (raw, reason) => {
    const decoded = decodeServerFrame(raw);
    expect(decoded).toMatchObject({ ok: false, reason });
    if (!decoded.ok) expect(decoded.detail.length).toBeGreaterThan(3);
  });

  it('rejects a frame over MAX_FRAME_BYTES without parsing it', () => {
    const raw = JSON.stringify({
      type: 'message',
      employmentId: 1,
      messageId: 'm',
      timestamp: 't',
      content: 'x'.repeat(MAX_FRAME_BYTES),
    });
    expect(decodeServerFrame(raw)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(decodeServerFrame(Buffer.from(raw))).toMatchObject({ ok: false, reason: 'too-large' });
  });
});

describe('client frames (agent → platform)', () => {
  it('decodes what the public client sends: message, read, ping, pong', () => {
    for (const raw of [MESSAGE, READ, PING, PONG]) expect(decodeClientFrame(raw)).toMatchObject({ ok: true });
    const lenient = decodeClientFrame('{"type":"message","employmentId":123,"content":"no id, no time"}');
    expect(lenient).toMatchObject({ ok: true, frame: { content: 'no id, no time' } });
  });

  it('rejects frames only the platform sends, binary frames, and bad ones, keeping the messageId', () => {
    expect(decodeClientFrame(NOTIFICATION)).toMatchObject({
      ok: false,
      reason: 'unknown-type',
      messageId: 'msg_1',
    });
    expect(decodeClientFrame(ERROR)).toMatchObject({ ok: false, reason: 'unknown-type' });
    expect(decodeClientFrame(Buffer.from(PING), true)).toMatchObject({ ok: false, reason: 'binary' });
    expect(
      decodeClientFrame('{"type":"message","employmentId":"one","messageId":"msg_x","content":"x"}'),
    ).toMatchObject({
      ok: false,
      reason: 'invalid',
      messageId: 'msg_x',
      detail: expect.stringContaining('employmentId'),
    });
    expect(decodeClientFrame('nope')).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decodeClientFrame('x'.repeat(MAX_FRAME_BYTES + 1))).toMatchObject({
      ok: false,
      reason: 'too-large',
    });
    expect(clientFrameSchema.safeParse({ type: 'read', employmentId: 1.5 }).success).toBe(false);
  });
});

describe('events', () => {
  it('maps every notification of PROTOCOL.md to an event name and back', () => {
    for (const [name, def] of Object.entries(NOTIFICATIONS)) {
      expect(notificationEventName(def.domain, def.event)).toBe(name);
      expect(notificationEventName('', def.event)).toBe(name);
      expect(wireNotification(name as keyof typeof NOTIFICATIONS)).toEqual({
        domain: def.domain,
        event: def.event,
      });
    }
    expect(EVENT_NAMES).toContain('message');
    expect(closestEventName('mesage')).toBe('message');
  });

  it('routes a known notification with surprising data to its handler anyway', () => {
    const decoded = decodeServerFrame(
      '{"type":"notification","domain":"service_invocation","event":"service_invoked","data":{"price":{"odd":true}}}',
    );
    expect(decoded.ok).toBe(true);
    if (decoded.ok)
      expect(toEvent(decoded.frame)).toMatchObject({
        name: 'service-invoked',
        event: { data: { price: { odd: true } } },
      });
  });

  it('classifies error frames by code or by message text', () => {
    expect(classifyError({ code: 'EMPLOYMENT_NOT_ACTIVE' })).toBe('EMPLOYMENT_NOT_ACTIVE');
    expect(classifyError({ code: 'X', message: 'Rate limit exceeded' })).toBe('RATE_LIMITED');
    expect(classifyError({ message: 'authentication failed: invalid API key' })).toBe('UNAUTHORIZED');
    expect(classifyError({ code: 'WHATEVER' })).toBe('UNKNOWN');
  });

  it('fills messageId and timestamp the way the public client does', () => {
    expect(newMessageId()).toMatch(
      /^msg_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(rfc3339(new Date('2026-04-12T10:00:00.123Z'))).toBe('2026-04-12T10:00:00Z');
  });
});

describe('REST', () => {
  it('parses both envelopes', () => {
    expect(envelopeSchema.safeParse({ success: true, data: { id: 1 }, traceId: 't' }).success).toBe(true);
    expect(
      envelopeSchema.safeParse({
        success: false,
        error: { code: 'NOT_FOUND', message: 'x', details: { a: 1 } },
      }).success,
    ).toBe(true);
    expect(envelopeSchema.safeParse({ success: false, error: { message: 'no code' } }).success).toBe(false);
  });

  it('validates bodies: decimal numbers (or decimal strings) for amounts, objects for input', () => {
    expect(createEmploymentBodySchema.parse({ employeeAgentId: 2, salary: 10 })).toMatchObject({
      employeeAgentId: 2,
      salary: 10,
    });
    expect(createEmploymentBodySchema.safeParse({ employeeAgentId: 2, salary: '10.5' }).success).toBe(true);
    expect(createEmploymentBodySchema.safeParse({ employeeAgentId: 2, salary: 'ten' }).success).toBe(false);
    expect(
      invokeServiceBodySchema.safeParse({
        serviceId: 1,
        input: { text: 'hi' },
        maxPrice: 2,
        idempotencyKey: 'k',
      }).success,
    ).toBe(true);
    expect(invokeServiceBodySchema.safeParse({ serviceId: 1, input: 'hi' }).success).toBe(false);
    expect(submitInvocationBodySchema.safeParse({ status: 'completed', output: { a: 1 } }).success).toBe(
      true,
    );
    expect(submitInvocationBodySchema.safeParse({ status: 'timeout' }).success).toBe(false);
  });

  it('coerces query strings and fills defaults', () => {
    expect(historyQuerySchema.parse({ limit: '5', before: '9' })).toMatchObject({ limit: 5, before: '9' });
    expect(historyQuerySchema.parse({})).toMatchObject({ limit: 20 });
    expect(historyQuerySchema.safeParse({ limit: '500' }).success).toBe(false);
  });

  it('parses a history page with metadata and nulls', () => {
    const page = {
      messages: [
        {
          id: 1,
          employmentId: 1,
          senderAgentId: 1,
          receiverAgentId: 2,
          type: 'text',
          content: 'x',
          messageId: 'msg_1',
          metadata: null,
          readAt: null,
          createdAt: 't',
        },
      ],
      hasMore: false,
      nextCursor: null,
    };
    expect(historyPageSchema.safeParse(page).success).toBe(true);
  });

  it('builds paths and the WebSocket URL', () => {
    expect(paths.messages(123)).toBe('/openapi/v1/agent/me/employments/123/messages');
    expect(paths.acceptApplication(1, 2)).toBe('/openapi/v1/agent/me/tasks/1/applications/2/accept');
    expect(wsUrlFor('https://api.claw4claw.bianjie.ai')).toBe('wss://api.claw4claw.bianjie.ai/ws');
    expect(wsUrlFor('http://127.0.0.1:7420/')).toBe('ws://127.0.0.1:7420/ws');
  });

  it('has a reply rule for each event that sends one', () => {
    expect(REPLY_SCHEMAS.message.safeParse('hi').success).toBe(true);
    expect(REPLY_SCHEMAS['employment-offered'].safeParse({ accept: true }).success).toBe(true);
    expect(REPLY_SCHEMAS['task-accepted'].safeParse({ attachments: [] }).success).toBe(false);
  });

  it('names every frame as toEvent routes it, without routing it', () => {
    const raws = [
      MESSAGE,
      NOTIFICATION,
      READ,
      ERROR,
      PING,
      PONG,
      '{"type":"notification","domain":"wallet","event":"topped_up","data":{}}',
      '{"type":"notification","domain":"","event":"service_invoked","data":{}}',
    ];
    for (const raw of raws) {
      const decoded = decodeServerFrame(raw);
      if (!decoded.ok) throw new Error(decoded.detail);
      expect(eventNameOf(decoded.frame)).toBe(toEvent(decoded.frame)?.name);
    }
  });

  it('takes every string as a message reply, unchanged (the runner skips the parse for strings)', () => {
    for (const text of ['', ' ', 'hi', '你好 🦞', 'x'.repeat(100_000), '{"content":"not an object"}']) {
      expect(REPLY_SCHEMAS.message.safeParse(text)).toEqual({ success: true, data: text });
    }
  });
});
