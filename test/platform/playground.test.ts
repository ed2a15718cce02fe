/**
 * The playground's routes on the embedded platform, as an outside client: the page for a browser and
 * the JSON summary for anyone else, the world, the live feed (server-sent events over a real socket),
 * the emit buttons' route with and without an emitter attached, the handlers a dev session hands over.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Peer } from '../../src/party/peer.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import type { Json } from '../helpers/platform.js';

let platform: Platform;
beforeEach(async () => {
  platform = await startPlatform();
});
afterEach(async () => platform.close());

async function dev(method: string, path: string, body?: unknown) {
  const res = await fetch(`${platform.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { success: boolean; data?: Json; error?: Json } };
}

/** Reads server-sent events from /dev/feed until `until` holds for the entries seen. */
async function feedUntil(
  until: (entries: Json[]) => boolean,
  during: () => Promise<unknown>,
): Promise<Json[]> {
  const controller = new AbortController();
  const res = await fetch(`${platform.url}/dev/feed`, { signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const entries: Json[] = [];
  let buffer = '';
  const acted = during();
  try {
    while (!until(entries)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) entries.push(JSON.parse(data.slice(6)));
      }
    }
  } finally {
    controller.abort();
    await acted;
  }
  return entries;
}

describe('the playground routes', () => {
  it('serves the page to a browser and the JSON summary to anyone else', async () => {
    const page = await fetch(`${platform.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<title>c4c-runner playground</title>');
    // Self-contained: nothing is fetched from anywhere but this platform.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
    const json = await dev('GET', '/');
    expect(json.body.data).toMatchObject({ rest: '/openapi/v1', ws: '/ws', playground: '/' });
  });

  it('lists the world: agents with their tokens and who is connected, employments, no handlers panel alone', async () => {
    const agent = new Peer({ url: platform.url, token: platform.world.agent.token });
    await agent.connect();
    try {
      const { body } = await dev('GET', '/dev/world');
      expect(body.data.agents).toEqual([
        { id: 1, name: 'Local Employer', token: 'cl_local_employer', connected: false },
        { id: 2, name: 'Local Agent', token: 'cl_local_agent', connected: true },
        { id: 3, name: 'Local Rival', token: 'cl_local_rival', connected: false },
      ]);
      expect(body.data.employments).toEqual([
        expect.objectContaining({ id: 1, employerAgentId: 1, employeeAgentId: 2, status: 'active' }),
      ]);
      expect(body.data.handlers).toBeNull();
      expect(body.data.events).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('streams what the platform sees: a message sent through the dev API arrives on the feed', async () => {
    const entries = await feedUntil(
      (seen) => seen.some((e) => e.type === 'message' && e.content === 'over the feed'),
      () => dev('POST', '/dev/messages', { employmentId: 1, content: 'over the feed' }),
    );
    const message = entries.find((e) => e.type === 'message');
    expect(message).toMatchObject({ employmentId: 1, senderAgentId: 1, content: 'over the feed' });
    expect(typeof message.seq).toBe('number');
    const history = await dev('GET', '/dev/employments/1/messages');
    expect(history.body.data.messages.map((m: { content: string }) => m.content)).toEqual(['over the feed']);
  });

  it('refuses to emit without an emitter, and raises through the one attached', async () => {
    const none = await dev('POST', '/dev/emit', { event: 'service-invoked', agentId: 2 });
    expect(none.status).toBe(501);
    expect(none.body.error.message).toContain('c4c-runner emit');

    const raised: [string, number][] = [];
    platform.attachPlayground({
      emitter: {
        events: ['service-invoked'],
        raise: (event, agentId) => {
          raised.push([event, agentId]);
          return Promise.resolve({ event, invocationId: 9 });
        },
      },
    });
    const unknown = await dev('POST', '/dev/emit', { event: 'nope', agentId: 2 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('events: service-invoked');
    const ok = await dev('POST', '/dev/emit', { event: 'service-invoked', agentId: 2 });
    expect(ok.body.data).toEqual({ event: 'service-invoked', invocationId: 9 });
    expect(raised).toEqual([['service-invoked', 2]]);
    expect((await dev('GET', '/dev/world')).body.data.events).toEqual(['service-invoked']);
  });

  it('shows the handlers and outcomes a dev session hands over', async () => {
    let notify:
      ((u: { type: 'outcome'; outcome: { event: string; ok: boolean; text: string } }) => void) | undefined;
    platform.attachPlayground({
      status: {
        handlers: () => [{ file: 'handlers/message.ts', event: 'message', state: 'loaded' }],
        subscribe: (listener) => {
          notify = listener;
          return () => (notify = undefined);
        },
      },
    });
    expect((await dev('GET', '/dev/world')).body.data.handlers).toEqual([
      { file: 'handlers/message.ts', event: 'message', state: 'loaded' },
    ]);
    const entries = await feedUntil(
      (seen) => seen.some((e) => e.type === 'outcome'),
      async () => notify?.({ type: 'outcome', outcome: { event: 'message', ok: true, text: '↳ replied' } }),
    );
    expect(entries.find((e) => e.type === 'handlers').handlers).toHaveLength(1);
    expect(entries.find((e) => e.type === 'outcome').outcome.text).toBe('↳ replied');
  });
});
