/**
 * @module
 * Reading history: the active employments, and one employment's unread messages back to its read
 * cursor, oldest first. Bounded everywhere: pages are paged by the items read (never an echoed
 * `limit`), at most {@link MAX_PAGES}; a cursor that does not advance is an error; past
 * {@link KEEP_UNREAD} unread messages only page cursors are kept in memory.
 */
import type { ApiClient } from '../../api/client.js';
import { PlatformError } from '../../errors.js';
import { messageFrameSchema, type ServerFrame } from '../../protocol/frames.js';
import { idNumber, sameId, type Id } from '../../protocol/ids.js';
import type { HistoryMessage } from '../../protocol/rest.js';

/** The part of the API client catch-up reads with (tests give a small fake of it). */
export type CatchUpApi = Pick<ApiClient, 'me' | 'employments' | 'messages' | 'invocations' | 'acceptedTasks'>;

/** Items asked for per page. */
export const PAGE = 100;
/**
 * Items asked for in the first (newest) page of an employment's history. Most employments have
 * nothing unread: the newest messages up to the first read one addressed to the agent are all the
 * walk needs, so a full page of 100 would be sent, parsed and checked for nothing. An employment with
 * more unread than this costs one more request; the later pages are full ones.
 */
export const FIRST_PAGE = 10;
/** Unread messages kept in memory per employment during a walk; beyond it, pages are read twice. */
export const KEEP_UNREAD = 1_000;
/** Pages of one list read at most in one pass (100,000 items at 100 a page). */
export const MAX_PAGES = 1_000;

/**
 * Whether page `page` (1-based) of a paged list was the last: it came back empty, or the items read
 * so far reach `total`. Reckoned with the items actually read, never the page size the platform
 * echoes (a `limit: 0` echoed back would otherwise never reach the total), and never past
 * MAX_PAGES, so a platform that misreports cannot keep the runner paging for ever.
 */
export function lastPage(page: number, items: number, read: number, total: number): boolean {
  return items === 0 || read >= total || page >= MAX_PAGES;
}

/** A page of history on the way back: its cursor and size, and its unread messages (newest first) while few. */
export interface UnreadPage {
  before: string | undefined;
  /** The `limit` it was read with: read again, it must be the same page. */
  limit: number;
  messages: HistoryMessage[] | undefined;
}

/** The messages of a page (newest first) addressed to `me` and unread, up to the first read one. */
export function unreadOf(
  messages: readonly HistoryMessage[],
  me: Id,
): { unread: HistoryMessage[]; reachedRead: boolean } {
  const unread: HistoryMessage[] = [];
  for (const message of messages) {
    if (!sameId(message.receiverAgentId, me)) continue;
    if (message.readAt) return { unread, reachedRead: true };
    unread.push(message);
  }
  return { unread, reachedRead: false };
}

/** Active employments on either side: the platform delivers messages to employers and employees alike. */
export async function activeEmployments(
  api: Pick<CatchUpApi, 'employments'>,
  signal: AbortSignal,
  /** Called with each page's employments not listed before, as the page comes. */
  onPage?: (ids: number[]) => void,
): Promise<number[]> {
  // A Set: an employment listed twice (pages shifting underneath) is caught up once; `includes` on
  // an array made the list quadratic (seconds at 50,000 employments).
  const ids = new Set<number>();
  let read = 0;
  for (let page = 1; ; page++) {
    const data = await api.employments({ role: 'all', status: 'active', page, limit: PAGE }, { signal });
    const fresh: number[] = [];
    for (const e of data.employments) {
      const id = idNumber(e.id);
      if (e.status !== 'active' || ids.has(id)) continue;
      ids.add(id);
      fresh.push(id);
    }
    onPage?.(fresh);
    read += data.employments.length;
    if (lastPage(page, data.employments.length, read, data.total)) return [...ids];
  }
}

/**
 * Walks an employment's history back to the read cursor: pages come newest first, and the read
 * cursor marks a prefix of what the agent received, so the first read message ends the walk. Pages
 * keep their unread messages while they are few; past KEEP_UNREAD only their cursors are kept (a
 * flood while the runner was away must not fill memory) and they are read again on the way forward.
 */
export async function walkHistory(
  api: Pick<CatchUpApi, 'messages'>,
  id: number,
  me: Id,
  signal: AbortSignal,
): Promise<UnreadPage[]> {
  const pages: UnreadPage[] = [];
  const cursors = new Set<string>();
  let kept = 0;
  let before: string | undefined;
  for (;;) {
    const limit = before === undefined ? FIRST_PAGE : PAGE;
    const page = await api.messages(id, { limit, ...(before ? { before } : {}) }, { signal });
    const { unread, reachedRead } = unreadOf(page.messages, me);
    if (unread.length > 0) {
      kept += unread.length;
      pages.push({ before, limit, messages: kept <= KEEP_UNREAD ? unread : undefined });
    }
    if (reachedRead || !page.hasMore || !page.nextCursor) return pages;
    // A cursor seen before would walk in a circle for ever (and keep every page it read).
    if (cursors.has(page.nextCursor) || page.messages.length === 0) {
      throw new PlatformError(
        200,
        'CURSOR_STUCK',
        `the history of employment ${id} says "more" but its cursor does not advance (${JSON.stringify(page.nextCursor)}); reading it again later`,
        { details: { employmentId: id, cursor: page.nextCursor } },
      );
    }
    cursors.add(page.nextCursor);
    before = page.nextCursor;
  }
}

/** The walked pages' unread messages, oldest first, reading again the pages that kept only a cursor. */
export async function* oldestFirst(
  api: Pick<CatchUpApi, 'messages'>,
  id: number,
  me: Id,
  pages: readonly UnreadPage[],
  signal: AbortSignal,
): AsyncGenerator<HistoryMessage> {
  for (let i = pages.length - 1; i >= 0; i--) {
    const { before, limit } = pages[i]!;
    let messages = pages[i]!.messages;
    if (!messages) {
      const page = await api.messages(id, { limit, ...(before ? { before } : {}) }, { signal });
      messages = unreadOf(page.messages, me).unread;
    }
    for (let j = messages.length - 1; j >= 0; j--) yield messages[j]!;
  }
}

/** A history message as the live frame it would have been. */
export function toFrame(message: HistoryMessage): ServerFrame {
  const base = {
    type: 'message' as const,
    employmentId: message.employmentId,
    messageId: message.messageId,
    timestamp: message.createdAt,
    content: message.content,
  };
  if (message.metadata) {
    // History keeps whatever metadata the sender sent; a shape the frame schema refuses is left out.
    const withMetadata = messageFrameSchema.safeParse({ ...base, metadata: message.metadata });
    if (withMetadata.success) return withMetadata.data;
  }
  return base;
}
