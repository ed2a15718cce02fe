/**
 * Messages between the two parties of an employment: storing, routing to the other party's
 * sockets, and read state with receipts. Used alike by sockets, REST, and the dev API.
 */
import type { EventEmitter } from 'node:events';
import { newMessageId, rfc3339, type MessageFrame, type ReadFrame } from '../protocol/frames.js';
import type { PlatformEvents } from './events.js';
import type { Hub } from './hub.js';
import { notFound, refuse } from './refuse.js';
import type { EmploymentRecord, MessageRecord, State } from './state.js';

export interface SendInput {
  employmentId: number;
  senderAgentId: number;
  content: string;
  metadata?: Record<string, unknown> | null | undefined;
  messageId?: string | undefined;
  timestamp?: string | undefined;
}

export class Chat {
  readonly #state: State;
  readonly #hub: Hub;
  readonly #events: EventEmitter<PlatformEvents>;
  constructor(state: State, hub: Hub, events: EventEmitter<PlatformEvents>) {
    this.#state = state;
    this.#hub = hub;
    this.#events = events;
  }

  /** The employment, if `agentId` is one of its parties; NOT_FOUND otherwise (no leak of others'). */
  employmentFor(agentId: number, employmentId: number): EmploymentRecord {
    const employment = this.#state.employments.get(employmentId);
    if (!employment || (employment.employerAgentId !== agentId && employment.employeeAgentId !== agentId)) {
      throw notFound(`employment ${employmentId}`, { employmentId });
    }
    return employment;
  }

  /**
   * Stores a message and pushes it to the other party's open sockets. An offline receiver finds
   * it in history, unread; it is never pushed later. A repeated `messageId` in the same employment
   * (a client resending after a reconnect) is stored and delivered once.
   */
  send(input: SendInput): { message: MessageRecord; duplicate: boolean; delivered: number } {
    checkBounds(input);
    const employment = this.employmentFor(input.senderAgentId, input.employmentId);
    if (employment.status !== 'active') {
      throw refuse(
        409,
        'EMPLOYMENT_NOT_ACTIVE',
        `employment ${employment.id} is ${employment.status}, not active; messages can only be sent in an active employment`,
        {
          employmentId: employment.id,
          status: employment.status,
          ...(input.messageId ? { messageId: input.messageId } : {}),
        },
      );
    }
    if (input.messageId) {
      const existing = this.#state.messageByMessageId(employment.id, input.messageId);
      if (existing) return { message: existing, duplicate: true, delivered: 0 };
    }
    const now = rfc3339();
    const receiverAgentId =
      employment.employerAgentId === input.senderAgentId
        ? employment.employeeAgentId
        : employment.employerAgentId;
    const message: MessageRecord = {
      id: this.#state.nextId('messages'),
      employmentId: employment.id,
      senderAgentId: input.senderAgentId,
      receiverAgentId,
      // The client reads `type` as a frame type (`WebSocketMessageType`); the format stays in metadata.
      type: 'message',
      content: input.content,
      messageId: input.messageId ?? newMessageId(),
      metadata: input.metadata ?? null,
      readAt: null,
      createdAt: now,
    };
    this.#state.put('messages', message);
    this.#state.changed();
    const frame: MessageFrame = {
      type: 'message',
      employmentId: employment.id,
      messageId: message.messageId,
      timestamp: input.timestamp ?? now,
      content: message.content,
      ...(message.metadata ? { metadata: message.metadata } : {}),
    };
    const delivered = this.#hub.send(receiverAgentId, frame);
    this.#events.emit('message', message);
    return { message, duplicate: false, delivered };
  }

  /**
   * Marks every message the reader received in the employment, up to and including
   * `lastReadMessageId`, as read, and sends a read receipt to the other party.
   */
  markRead(readerAgentId: number, employmentId: number, lastReadMessageId: string): { unreadCount: number } {
    const employment = this.employmentFor(readerAgentId, employmentId);
    const target = this.#state.messageByMessageId(employment.id, lastReadMessageId);
    if (!target) {
      throw notFound(`message ${lastReadMessageId} in employment ${employment.id}`, {
        employmentId: employment.id,
        messageId: lastReadMessageId,
      });
    }
    const now = rfc3339();
    let changed = false;
    let unreadCount = 0;
    // Newest first. What a reader has read is always a prefix of what they received (every call
    // marks everything up to its target, and new messages get larger ids), so the first read
    // message at or below the target ends the walk: the cost is what arrived since the last call.
    const list = this.#state.messagesOf(employment.id);
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const message = list[i]!;
      if (message.receiverAgentId !== readerAgentId) continue;
      if (message.id > target.id) {
        if (!message.readAt) unreadCount += 1;
        continue;
      }
      if (message.readAt) break;
      message.readAt = now;
      changed = true;
    }
    if (changed) this.#state.changed();
    const other =
      employment.employerAgentId === readerAgentId ? employment.employeeAgentId : employment.employerAgentId;
    const receipt: ReadFrame = {
      type: 'read',
      employmentId: employment.id,
      messageId: lastReadMessageId,
      lastReadMessageId,
      timestamp: now,
    };
    this.#hub.send(other, receipt);
    this.#events.emit('read', { employmentId: employment.id, readerAgentId, lastReadMessageId, unreadCount });
    return { unreadCount };
  }
}

/** Longest message content the platform stores, in UTF-8 bytes. */
export const MAX_CONTENT_BYTES = 256 * 1024;
/** Deepest nesting of a message's metadata (the metadata object itself is depth 1). */
export const MAX_METADATA_DEPTH = 16;
/** Largest metadata the platform stores, as JSON, in bytes. */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * What the platform stores it must be able to send, list and save: a message beyond these bounds is
 * refused with VALIDATION_ERROR before it is stored (a 10,000-deep metadata once broke its history
 * and its save file for good). The depth is measured without recursion, so no input can overflow it.
 */
function checkBounds(input: SendInput): void {
  const details = input.messageId ? { messageId: input.messageId } : {};
  const contentBytes = Buffer.byteLength(input.content, 'utf8');
  if (contentBytes > MAX_CONTENT_BYTES)
    throw refuse(
      400,
      'VALIDATION_ERROR',
      `content is ${contentBytes} bytes; at most ${MAX_CONTENT_BYTES} are stored`,
      {
        ...details,
        field: 'content',
        limit: MAX_CONTENT_BYTES,
      },
    );
  if (input.metadata === null || input.metadata === undefined) return;
  const stack: [unknown, number][] = [[input.metadata, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_METADATA_DEPTH)
      throw refuse(
        400,
        'VALIDATION_ERROR',
        `metadata is nested deeper than ${MAX_METADATA_DEPTH} levels; flatten it`,
        { ...details, field: 'metadata', limit: MAX_METADATA_DEPTH },
      );
    for (const child of Object.values(value))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  const metadataBytes = Buffer.byteLength(JSON.stringify(input.metadata), 'utf8');
  if (metadataBytes > MAX_METADATA_BYTES)
    throw refuse(
      400,
      'VALIDATION_ERROR',
      `metadata is ${metadataBytes} bytes as JSON; at most ${MAX_METADATA_BYTES} are stored`,
      {
        ...details,
        field: 'metadata',
        limit: MAX_METADATA_BYTES,
      },
    );
}
