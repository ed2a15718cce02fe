/**
 * Walking history alone, against a fake of the API client: back to the read cursor and no further,
 * oldest first, pages re-read past the in-memory bound, a cursor that does not advance refused, and
 * lists paged by the items read (never the echoed limit) and never past MAX_PAGES.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryMessage } from '../../../src/protocol/rest.js';
import {
  activeEmployments,
  FIRST_PAGE,
  KEEP_UNREAD,
  lastPage,
  MAX_PAGES,
  oldestFirst,
  PAGE,
  toFrame,
  unreadOf,
  walkHistory,
  type CatchUpApi,
} from '../../../src/runner/catchup/history.js';
import { fakeApi, ME } from '../../helpers/catchup-api.js';

const signal = new AbortController().signal;

async function unread(api: CatchUpApi, id: number): Promise<string[]> {
  const pages = await walkHistory(api, id, ME, signal);
  const out: string[] = [];
  for await (const m of oldestFirst(api, id, ME, pages, signal)) out.push(m.messageId);
  return out;
}

describe('walkHistory + oldestFirst', () => {
  it('reads back to the read cursor and gives the unread messages to the agent, oldest first', async () => {
    const api = fakeApi({ pageSize: 2 });
    api.add(1, 'old', { read: true });
    api.add(1, 'a');
    api.add(1, 'mine', { toMe: false });
    api.add(1, 'b');
    api.add(1, 'c');
    api.add(2, 'other');
    api.read(1, 'old');
    expect(await unread(api, 1)).toEqual(['a', 'b', 'c']);
    // Page by page until the read message, not one page further.
    expect(api.calls).toEqual(['messages:1', 'messages:1:before=4', 'messages:1:before=2']);
  });

  it('nothing unread: one page, nothing handed on', async () => {
    const api = fakeApi();
    api.add(1, 'a');
    api.read(1, 'a');
    expect(await unread(api, 1)).toEqual([]);
    expect(api.calls).toEqual(['messages:1']);
  });

  it(`past ${KEEP_UNREAD} unread only cursors are kept, and those pages are read again on the way forward`, async () => {
    const api = fakeApi();
    const total = KEEP_UNREAD + 250;
    for (let i = 1; i <= total; i++) api.add(1, `m${i}`);
    const pages = await walkHistory(api, 1, ME, signal);
    const kept = pages.filter((p) => p.messages).reduce((n, p) => n + p.messages!.length, 0);
    expect(kept).toBeLessThanOrEqual(KEEP_UNREAD);
    expect(pages.some((p) => p.messages === undefined)).toBe(true);
    const walkCalls = api.calls.length;
    const out: string[] = [];
    for await (const m of oldestFirst(api, 1, ME, pages, signal)) out.push(m.messageId);
    expect(out).toEqual(Array.from({ length: total }, (_, i) => `m${i + 1}`));
    expect(api.calls.length - walkCalls).toBe(pages.filter((p) => !p.messages).length);
  });

  it(`asks ${FIRST_PAGE} messages for the newest page and ${PAGE} for each older one`, async () => {
    const api = fakeApi();
    const limits: (number | undefined)[] = [];
    const sized: CatchUpApi = {
      ...api,
      messages: (id, query, options) => {
        limits.push(query?.limit);
        return api.messages(id, query, options);
      },
    };
    // All read: the small newest page holds a read message, so it is the only read.
    for (let i = 1; i <= 30; i++) api.add(1, `r${i}`, { toMe: i % 2 === 1, read: true });
    expect(await unread(sized, 1)).toEqual([]);
    expect(limits).toEqual([FIRST_PAGE]);
    // 250 unread after them: one small page, then full ones back to the read cursor, in order.
    limits.length = 0;
    for (let i = 1; i <= 250; i++) api.add(1, `u${i}`);
    expect(await unread(sized, 1)).toEqual(Array.from({ length: 250 }, (_, i) => `u${i + 1}`));
    expect(limits).toEqual([FIRST_PAGE, PAGE, PAGE, PAGE]);
  });

  it('a history that says "more" with a cursor it gave before is CURSOR_STUCK, not a loop', async () => {
    const api = fakeApi();
    api.add(1, 'a');
    const stuck: CatchUpApi = {
      ...api,
      messages: async (id, query, options) => ({
        ...(await api.messages(id, query, options)),
        hasMore: true,
        nextCursor: 'same',
      }),
    };
    await expect(walkHistory(stuck, 1, ME, signal)).rejects.toMatchObject({
      platformCode: 'CURSOR_STUCK',
      message: expect.stringMatching(/cursor does not advance \("same"\); reading it again later/),
    });
  });

  it('an empty page that says "more" is CURSOR_STUCK too', async () => {
    const api = fakeApi();
    const empty: CatchUpApi = {
      ...api,
      messages: async () => ({ messages: [], hasMore: true, nextCursor: 'next' }),
    };
    await expect(walkHistory(empty, 1, ME, signal)).rejects.toMatchObject({ platformCode: 'CURSOR_STUCK' });
  });

  it('a refused read rejects with the refusal', async () => {
    const api = fakeApi();
    api.refuse.set(1, new Error('502 from the gateway'));
    await expect(walkHistory(api, 1, ME, signal)).rejects.toThrow('502 from the gateway');
  });
});

describe('unreadOf', () => {
  const message = (messageId: string, receiver: number | string, readAt: string | null): HistoryMessage =>
    ({ messageId, receiverAgentId: receiver, readAt }) as HistoryMessage;
  it('stops at the first read message addressed to the agent; compares ids canonically', () => {
    expect(
      unreadOf(
        [message('c', '2', null), message('x', 1, 'read'), message('b', 2, 'read'), message('a', 2, null)],
        ME,
      ),
    ).toEqual({ unread: [message('c', '2', null)], reachedRead: true });
  });
});

describe('activeEmployments', () => {
  it('pages by the items read against total, on both sides, once each', async () => {
    const api = fakeApi({ employments: Array.from({ length: 250 }, (_, i) => i + 1) });
    const ids = await activeEmployments(api, signal);
    expect(ids).toHaveLength(250);
    expect(api.calls).toEqual(['employments:page=1', 'employments:page=2', 'employments:page=3']);
  });

  it('a platform that echoes limit 0 and always says there are more stops at MAX_PAGES', async () => {
    let calls = 0;
    const api = {
      employments: async () => {
        calls++;
        return { employments: [{ id: calls, status: 'active' }], total: 1e9, page: calls, limit: 0 };
      },
    } as unknown as CatchUpApi;
    expect(await activeEmployments(api, signal)).toHaveLength(MAX_PAGES);
    expect(calls).toBe(MAX_PAGES);
  });

  it('lastPage: empty, total reached, or the page bound', () => {
    expect(lastPage(1, 0, 0, 10)).toBe(true);
    expect(lastPage(1, 5, 10, 10)).toBe(true);
    expect(lastPage(1, 5, 5, 10)).toBe(false);
    expect(lastPage(MAX_PAGES, 5, 5, 1e9)).toBe(true);
  });
});

describe('toFrame', () => {
  it('turns a history message into the live frame it would have been; metadata the schema refuses is left out', () => {
    const base = {
      id: 1,
      employmentId: 3,
      senderAgentId: 1,
      receiverAgentId: 2,
      type: 'text',
      content: 'hi',
      messageId: 'msg_1',
      readAt: null,
      createdAt: '2026-11-30T00:00:00Z',
    } as HistoryMessage;
    expect(toFrame({ ...base, metadata: { format: 'markdown' } })).toEqual({
      type: 'message',
      employmentId: 3,
      messageId: 'msg_1',
      timestamp: '2026-11-30T00:00:00Z',
      content: 'hi',
      metadata: { format: 'markdown' },
    });
    expect(toFrame({ ...base, metadata: { attachments: 'not a list' } })).not.toHaveProperty('metadata');
  });
});
