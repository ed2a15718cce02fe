import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageFrame, NotificationFrame } from '../../src/protocol/frames.js';
import { WebhookClient, WebhookError } from '../../src/webhook/client.js';
import { createWebhookHandler } from '../../src/webhook/handler.js';
import type { WebhookReport } from '../../src/webhook/report.js';
import { verifyWebhookSignature } from '../../src/webhook/sign.js';
import * as publicApi from '../../src/index.js';
import { deadUrl, startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const message: MessageFrame = {
  type: 'message',
  employmentId: 123,
  messageId: 'msg_0b7f',
  timestamp: '2026-04-12T10:00:00Z',
  content: 'Summarise <this> & that',
  metadata: {
    format: 'text',
    language: 'zh',
    attachments: [{ type: 'file', url: 'https://x/a.csv', name: 'a.csv', size: 1024 }],
  },
};

const notification: NotificationFrame = {
  type: 'notification',
  domain: 'service_invocation',
  event: 'service_invoked',
  messageId: 'msg_n1',
  timestamp: '2026-04-12T10:00:01Z',
  data: {
    serviceTitle: 'Upper',
    callerAgentName: 'Caller',
    price: '3',
    invocationId: 7,
    input: { text: 'hi' },
  },
};

const servers: WebhookServer[] = [];
async function server(...args: Parameters<typeof startWebhookServer>) {
  const s = await startWebhookServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Collects reports; `next(type)` resolves with the next one of that type. */
function reports() {
  const seen: WebhookReport[] = [];
  const waiters: { type: WebhookReport['type']; from: number; resolve: (r: WebhookReport) => void }[] = [];
  let consumed = 0;
  const report = (r: WebhookReport) => {
    seen.push(r);
    for (const w of [...waiters]) {
      const hit = seen.slice(w.from).find((s) => s.type === w.type);
      if (hit) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  const next = (type: WebhookReport['type']) =>
    new Promise<WebhookReport>((resolve) => {
      const from = consumed;
      const hit = seen.slice(from).find((s) => s.type === type);
      const done = (r: WebhookReport) => {
        consumed = seen.indexOf(r) + 1;
        resolve(r);
      };
      if (hit) done(hit);
      else waiters.push({ type, from, resolve: done });
    });
  return { seen, report, next };
}

/** The verification recipe of the README, written out independently of src/webhook/sign.ts. */
function readmeVerify(
  secret: string,
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  const timestamp = String(headers['x-c4c-timestamp'] ?? '');
  const signature = String(headers['x-c4c-signature'] ?? '');
  const expected = 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return (
    fresh &&
    signature.length === expected.length &&
    timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}

describe('webhook body: what the public client sends', () => {
  it('POSTs a message with the exact body and JSON content type', async () => {
    const hook = await server();
    const result = await new WebhookClient({ url: hook.url }).forward(message);
    expect(result.ok).toBe(true);
    const received = await hook.request(1);
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/webhook');
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.body).toBe(
      '{"content":"Summarise <this> & that","employmentId":123,"messageId":"msg_0b7f",' +
        '"metadata":{"format":"text","language":"zh","attachments":[{"type":"file","url":"https://x/a.csv","name":"a.csv","size":1024}]},' +
        '"timestamp":"2026-04-12T10:00:00Z","type":"message"}',
    );
    expect(received.headers['x-c4c-signature']).toBeUndefined();
  });

  it('leaves metadata out of a message that has none', async () => {
    const hook = await server();
    const { metadata: _drop, ...bare } = message;
    await new WebhookClient({ url: hook.url }).forward(bare);
    expect(JSON.parse((await hook.request(1)).body)).toEqual({
      content: message.content,
      employmentId: 123,
      messageId: 'msg_0b7f',
      timestamp: '2026-04-12T10:00:00Z',
      type: 'message',
    });
  });

  it('POSTs a notification with type, domain, event, data, messageId and timestamp', async () => {
    const hook = await server();
    await new WebhookClient({ url: hook.url }).forward(notification);
    expect((await hook.request(1)).body).toBe(
      '{"data":{"serviceTitle":"Upper","callerAgentName":"Caller","price":"3","invocationId":7,"input":{"text":"hi"}},' +
        '"domain":"service_invocation","event":"service_invoked","messageId":"msg_n1","timestamp":"2026-04-12T10:00:01Z","type":"notification"}',
    );
  });

  it('sends empty messageId and timestamp when a notification lacks them, as the public client does', async () => {
    const hook = await server();
    await new WebhookClient({ url: hook.url }).forward({
      type: 'notification',
      domain: 'task',
      event: 'task_completed',
      data: {},
    });
    expect(JSON.parse((await hook.request(1)).body)).toEqual({
      data: {},
      domain: 'task',
      event: 'task_completed',
      messageId: '',
      timestamp: '',
      type: 'notification',
    });
  });
});

describe('webhook signing', () => {
  it('signs with a timestamp that the README recipe and verifyWebhookSignature accept', async () => {
    const hook = await server();
    await new WebhookClient({ url: hook.url, secret: 'whsec_test' }).forward(message);
    const { body, headers } = await hook.request(1);
    expect(headers['x-c4c-timestamp']).toMatch(/^\d+$/);
    expect(headers['x-c4c-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(readmeVerify('whsec_test', body, headers)).toBe(true);
    const input = {
      secret: 'whsec_test',
      body,
      timestamp: headers['x-c4c-timestamp'] as string,
      signature: headers['x-c4c-signature'] as string,
    };
    expect(verifyWebhookSignature(input)).toBe(true);
    // Receivers written in Node can take it from the package itself.
    expect(publicApi.verifyWebhookSignature(input)).toBe(true);
  });

  it('rejects a tampered body, a tampered timestamp, a wrong secret and a stale request', async () => {
    const hook = await server();
    await new WebhookClient({ url: hook.url, secret: 'whsec_test' }).forward(message);
    const { body, headers } = await hook.request(1);
    const timestamp = headers['x-c4c-timestamp'] as string;
    const signature = headers['x-c4c-signature'] as string;
    const tampered = body.replace('"employmentId":123', '"employmentId":124');
    expect(tampered).not.toBe(body);
    expect(readmeVerify('whsec_test', tampered, headers)).toBe(false);
    expect(verifyWebhookSignature({ secret: 'whsec_test', body: tampered, timestamp, signature })).toBe(
      false,
    );
    const later = String(Number(timestamp) + 1);
    expect(readmeVerify('whsec_test', body, { ...headers, 'x-c4c-timestamp': later })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'whsec_test', body, timestamp: later, signature })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'other', body, timestamp, signature })).toBe(false);
    expect(
      verifyWebhookSignature({
        secret: 'whsec_test',
        body,
        timestamp,
        signature,
        now: Number(timestamp) * 1000 + 301_000,
      }),
    ).toBe(false);
    expect(verifyWebhookSignature({ secret: 'whsec_test', body, timestamp, signature: undefined })).toBe(
      false,
    );
  });
});

describe("the webhook's answer becomes the reply", () => {
  const handle = (client: WebhookClient, report?: (r: WebhookReport) => void) => {
    const handler = createWebhookHandler(client, report);
    return (name: Parameters<typeof handler>[0]['name'], event: unknown) =>
      handler({ name, event, signal: new AbortController().signal });
  };

  it('text/plain becomes the message content', async () => {
    const hook = await server(() => ({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'echo: hi',
    }));
    const log = reports();
    expect(await handle(new WebhookClient({ url: hook.url }), log.report)('message', message)).toBe(
      'echo: hi',
    );
    expect(log.seen.map((r) => r.type)).toEqual(['delivered', 'reply']);
  });

  it('a JSON body in the reply shape of the event is the reply', async () => {
    const hook = await server((req) => {
      const body = JSON.parse(req.body) as { type: string };
      const answer =
        body.type === 'message' ? { content: 'hello', metadata: { format: 'markdown' } } : { upper: 'HI' };
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) };
    });
    const run = handle(new WebhookClient({ url: hook.url }));
    expect(await run('message', message)).toEqual({ content: 'hello', metadata: { format: 'markdown' } });
    expect(await run('service-invoked', notification)).toEqual({ upper: 'HI' });
  });

  it('an empty 2xx sends nothing', async () => {
    const hook = await server(() => ({ status: 204 }));
    expect(await handle(new WebhookClient({ url: hook.url }))('message', message)).toBeUndefined();
    hook.answer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '' }));
    expect(await handle(new WebhookClient({ url: hook.url }))('message', message)).toBeUndefined();
  });

  it('an answer that is no reply for the event is reported and not sent', async () => {
    const hook = await server(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
    }));
    const log = reports();
    expect(
      await handle(new WebhookClient({ url: hook.url }), log.report)('message', message),
    ).toBeUndefined();
    const ignored = log.seen.find((r) => r.type === 'ignored');
    expect(ignored).toMatchObject({ type: 'ignored', event: 'message' });
    expect((ignored as { reason: string }).reason).toMatch(/no reply for "message"/);
  });

  it('events without a reply rule ignore the body', async () => {
    const hook = await server(() => ({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: 'thanks',
    }));
    const completed: NotificationFrame = {
      type: 'notification',
      domain: 'task',
      event: 'task_completed',
      data: { taskTitle: 'T' },
    };
    expect(await handle(new WebhookClient({ url: hook.url }))('task-completed', completed)).toBeUndefined();
  });

  it('does not forward read receipts or errors', async () => {
    const hook = await server();
    const run = handle(new WebhookClient({ url: hook.url }));
    expect(await run('read', { type: 'read', employmentId: 1 })).toBeUndefined();
    expect(await run('error', { type: 'error', code: 'X', message: 'y' })).toBeUndefined();
    expect(hook.requests).toHaveLength(0);
  });

  it('a 4xx refusal is not retried and sends nothing', async () => {
    const hook = await server(() => ({ status: 400, body: 'bad' }));
    const log = reports();
    expect(
      await handle(new WebhookClient({ url: hook.url }), log.report)('message', message),
    ).toBeUndefined();
    expect(hook.requests).toHaveLength(1);
    expect(log.seen.map((r) => r.type)).toEqual(['rejected']);
  });
});

describe('retries with backoff (fake timers)', () => {
  it('retries a 500 after 1 s, then 2 s, and succeeds with the same body', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let calls = 0;
    const hook = await server(() =>
      ++calls <= 2
        ? { status: 500 }
        : { status: 200, headers: { 'content-type': 'text/plain' }, body: 'late answer' },
    );
    const log = reports();
    const client = new WebhookClient({ url: hook.url });
    const done = createWebhookHandler(
      client,
      log.report,
    )({ name: 'message', event: message, signal: new AbortController().signal });

    const first = await log.next('failed');
    expect(first).toMatchObject({ status: 500, attempt: 1, retryIn: 1000, final: false });
    await vi.advanceTimersByTimeAsync(999);
    expect(hook.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await hook.request(2);

    const second = await log.next('failed');
    expect(second).toMatchObject({ status: 500, attempt: 2, retryIn: 2000 });
    await vi.advanceTimersByTimeAsync(1999);
    expect(hook.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);

    expect(await done).toBe('late answer');
    expect(hook.requests).toHaveLength(3);
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
  });

  it('follows the capped doubling schedule and honours Retry-After on 429', async () => {
    const client = new WebhookClient({
      url: 'http://127.0.0.1:1/x',
      retry: { attempts: 8, initialDelay: 1000, maxDelay: 10_000 },
    });
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => client.delayAfter(n))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let calls = 0;
    const hook = await server(() =>
      ++calls === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 },
    );
    const log = reports();
    const done = new WebhookClient({ url: hook.url }).forward(message, { report: log.report });
    expect(await log.next('failed')).toMatchObject({ status: 429, retryIn: 3000 });
    await vi.advanceTimersByTimeAsync(2999);
    expect(hook.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect((await done).ok).toBe(true);
  });

  it('a webhook that is down is retried, then the forward fails so the event is not acknowledged', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const url = await deadUrl();
    const log = reports();
    const client = new WebhookClient({ url, retry: { attempts: 3 } });
    const done = client.forward(message, { report: log.report });
    const settled = done.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(await log.next('failed')).toMatchObject({ attempt: 1, retryIn: 1000 });
    expect((log.seen[0] as { error: string }).error).toMatch(/ECONNREFUSED/);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await log.next('failed')).toMatchObject({ attempt: 2, retryIn: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(await log.next('failed')).toMatchObject({ attempt: 3, final: true });
    const error = await settled;
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as WebhookError).code).toBe('E_WEBHOOK');
    expect((error as WebhookError).message).toMatch(
      /failed 3 times \(last: .*\); check that it is running and answers 2xx\. .*dead-letters\.jsonl for c4c-runner replay$/,
    );
  });

  it('a webhook that comes back up during the retries gets the event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const url = await deadUrl();
    const log = reports();
    const done = new WebhookClient({ url }).forward(message, { report: log.report });
    await log.next('failed');
    // Bring a receiver up on the very port the forward keeps trying.
    const port = Number(new URL(url).port);
    const { createServer } = await import('node:http');
    const bodies: string[] = [];
    const revived = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => revived.listen(port, '127.0.0.1', resolve));
    try {
      await vi.advanceTimersByTimeAsync(1000);
      const result = await done;
      expect(result).toMatchObject({ ok: true, attempts: 2 });
      expect(JSON.parse(bodies[0]!)).toMatchObject({ messageId: 'msg_0b7f' });
    } finally {
      revived.closeAllConnections();
      await new Promise<void>((resolve) => revived.close(() => resolve()));
    }
  });

  it('an abort during a wait stops at once with E_WEBHOOK', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const hook = await server(() => ({ status: 503 }));
    const log = reports();
    const controller = new AbortController();
    const done = new WebhookClient({ url: hook.url }).forward(message, {
      signal: controller.signal,
      report: log.report,
    });
    const settled = done.catch((error: unknown) => error);
    await log.next('failed');
    controller.abort(new Error('shutting down'));
    const error = await settled;
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as Error).message).toMatch(/shutting down/);
    expect(hook.requests).toHaveLength(1);
  });

  it('stopRetrying ends a wait at once, but lets an attempt in flight finish', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const hook = await server(async () => {
      if (++calls === 1) return { status: 500 };
      await held;
      return { status: 200 };
    });
    const log = reports();
    const stop = new AbortController();
    const client = new WebhookClient({ url: hook.url });

    // Waiting after a failure: stopping ends the forward without another attempt.
    const waiting = client
      .forward(message, { report: log.report, stopRetrying: stop.signal })
      .catch((error: unknown) => error);
    await log.next('failed');
    stop.abort(new Error('connect is stopping'));
    const error = await waiting;
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as Error).message).toMatch(/connect is stopping/);
    expect(hook.requests).toHaveLength(1);

    // In flight: the attempt completes and counts.
    const stop2 = new AbortController();
    const inFlight = client.forward(message, { stopRetrying: stop2.signal });
    await hook.request(2);
    stop2.abort();
    release();
    expect((await inFlight).ok).toBe(true);
  });

  it('a failing employment never holds up another', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const hook = await server((req) =>
      (JSON.parse(req.body) as { employmentId: number }).employmentId === 1
        ? { status: 500 }
        : { status: 200 },
    );
    const client = new WebhookClient({ url: hook.url });
    const log = reports();
    const stop = new AbortController();
    const failing = client
      .forward({ ...message, employmentId: 1 }, { report: log.report, signal: stop.signal })
      .catch((error: unknown) => error);
    await log.next('failed');
    // The first is now waiting to retry; the second goes through without any timer moving.
    const other = await client.forward({ ...message, employmentId: 2, messageId: 'msg_2' });
    expect(other.ok).toBe(true);
    expect(hook.requests).toHaveLength(2);
    stop.abort();
    expect(await failing).toBeInstanceOf(WebhookError);
  });
});

describe('options are checked early', () => {
  it('refuses a URL that is not http(s)', () => {
    expect(() => new WebhookClient({ url: 'localhost:8080/hook' })).toThrow(
      /must start with http:\/\/ or https:\/\//,
    );
    expect(() => new WebhookClient({ url: 'not a url' })).toThrow(/is not a URL/);
    expect(() => new WebhookClient({ url: 'http://x', retry: { attempts: 0 } })).toThrow(
      /retry.attempts must be a positive integer/,
    );
  });
});
