/**
 * `ctx.history()`: the employment's messages before the one being handled, oldest first, from the
 * agent's point of view — the shape an LLM prompt takes. Read from the platform's message history
 * (newest page first), paging back until enough older messages are found.
 */
import type { ApiClient } from '../api/client.js';
import { C4cError } from '../errors.js';
import { sameId, type Id } from '../protocol/ids.js';
import type { HistoryMessage } from '../protocol/rest.js';

/** One message of the conversation, as the agent sees it. */
export interface HistoryEntry {
  /** `agent`: this agent sent it; `employer`: the other party did. */
  readonly role: 'employer' | 'agent';
  readonly content: string;
  /** When the platform stored it (ISO 8601). */
  readonly at: string;
  readonly messageId: string;
}

/** Options of `ctx.history()`. */
export interface HistoryOptions {
  /** How many messages, the most recent ones. @default 20, at most 200 */
  limit?: number;
  /** Aborts the reads (the handler's signal is used by default). */
  signal?: AbortSignal;
}

/** The default and the largest `limit` of `ctx.history()`. */
export const HISTORY_DEFAULT_LIMIT = 20;
export const HISTORY_MAX_LIMIT = 200;
/** The platform's largest page. */
const PAGE = 100;

/** What {@link readHistory} needs to know about the event. */
export interface HistoryQuery {
  employmentId: Id;
  /** The message being handled: the history ends just before it. */
  messageId: string;
  /** This agent's id (messages it sent are `agent`). */
  agentId: () => Promise<Id>;
  label: string;
}

/** Reads the conversation before a message. See {@link HistoryEntry}. */
export async function readHistory(
  api: ApiClient,
  query: HistoryQuery,
  options: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const limit = options.limit ?? HISTORY_DEFAULT_LIMIT;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= HISTORY_MAX_LIMIT)) {
    throw new C4cError(
      'E_STATE',
      `${query.label}: ctx.history({ limit }) takes a whole number from 1 to ${HISTORY_MAX_LIMIT}, got ${String(limit)}`,
    );
  }
  const callOptions = options.signal ? { signal: options.signal } : {};
  const agentId = await query.agentId();
  const seen: HistoryMessage[] = [];
  let current = -1;
  let before: string | undefined;
  // The current message is normally on the first page; paging stops if it never shows up.
  for (let pages = 0; pages < Math.ceil(limit / PAGE) + 3; pages++) {
    const page = await api.messages(
      query.employmentId,
      { limit: PAGE, ...(before === undefined ? {} : { before }) },
      callOptions,
    );
    for (const message of page.messages) {
      if (current < 0 && message.messageId === query.messageId) current = seen.length;
      seen.push(message);
    }
    if ((current >= 0 && seen.length - current - 1 >= limit) || !page.hasMore || !page.nextCursor) break;
    before = page.nextCursor;
  }
  // Not found (a platform that does not list it): everything read is older than the handler's turn.
  const older = current >= 0 ? seen.slice(current + 1) : seen.filter((m) => m.messageId !== query.messageId);
  return older
    .slice(0, limit)
    .reverse()
    .map((m) => ({
      role: sameId(m.senderAgentId, agentId) ? 'agent' : 'employer',
      content: m.content,
      at: m.createdAt,
      messageId: m.messageId,
    }));
}
