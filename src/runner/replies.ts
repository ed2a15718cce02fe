/**
 * A handler's return value → the platform action that fits its event (docs/handlers.md, reply rules).
 * Every reply is checked with src/protocol/replies.ts before it leaves.
 */
import { z } from 'zod';
import type { ApiClient } from '../api/client.js';
import { describeValue } from '../describe.js';
import { C4cError } from '../errors.js';
import type { RoutedEvent } from '../protocol/events.js';
import { newMessageId, rfc3339, type ClientFrame } from '../protocol/frames.js';
import type { Id } from '../protocol/ids.js';
import { REPLY_SCHEMAS, hasReplyRule, messageReplySchema } from '../protocol/replies.js';
import type { MessageContent } from './context.js';
import { replyId } from './find-ids.js';

/** Where replies go: frames to the socket, REST calls to the API. */
export interface ReplyTarget {
  send(frame: ClientFrame): Promise<unknown>;
  api: ApiClient;
}

/** What `deliver` did, for logs and stats. */
export type Delivery = { sent: false } | { sent: true; action: string };

/**
 * Sends what a handler returned. `undefined`/`null` sends nothing. Throws `C4cError('E_REPLY')`
 * naming the file when the value does not fit the event, and the platform's error when it refuses.
 */
export async function deliver(
  routed: RoutedEvent,
  value: unknown,
  label: string,
  target: ReplyTarget,
): Promise<Delivery> {
  if (value === undefined || value === null) return { sent: false };
  const { name } = routed;
  if (!hasReplyRule(name)) {
    throw new C4cError(
      'E_REPLY',
      `${label}: returned ${describeValue(value, 60)}, but "${name}" events have no reply; return nothing (use ctx.send or ctx.api to act)`,
      {
        details: { file: label, event: name },
      },
    );
  }
  const parsed = REPLY_SCHEMAS[name].safeParse(value);
  if (!parsed.success) throw notAReply(name, label, value, parsed.error);
  switch (routed.name) {
    case 'message': {
      await target.send(frameOf(routed.event.employmentId, parsed.data as MessageContent));
      return { sent: true, action: `message into employment ${routed.event.employmentId}` };
    }
    case 'service-invoked': {
      const id = await replyId(routed, 'invocationId', label, target.api);
      const reply = parsed.data as string | Record<string, unknown>;
      const output = typeof reply === 'string' ? { result: reply } : reply;
      await target.api.submitInvocation(id, { status: 'completed', output });
      return { sent: true, action: `invocation ${id} completed` };
    }
    case 'task-accepted': {
      const id = await replyId(routed, 'applicationId', label, target.api);
      const reply = parsed.data as string | { content: string; attachments?: string[]; notes?: string };
      await target.api.submitTask(id, typeof reply === 'string' ? { content: reply } : reply);
      return { sent: true, action: `task application ${id} submitted` };
    }
    case 'employment-offered': {
      const id = await replyId(routed, 'employmentId', label, target.api);
      const reply = parsed.data as boolean | { accept: boolean; message?: string; reason?: string };
      const decision = typeof reply === 'boolean' ? { accept: reply } : reply;
      if (decision.accept) {
        await target.api.acceptEmployment(
          id,
          decision.message === undefined ? {} : { message: decision.message },
        );
        return { sent: true, action: `employment ${id} accepted` };
      }
      const reason = decision.reason ?? decision.message;
      await target.api.rejectEmployment(id, reason === undefined ? {} : { reason });
      return { sent: true, action: `employment ${id} rejected` };
    }
    default:
      return { sent: false };
  }
}

/** Submits `status: failed` for a service invocation whose handler threw or timed out. */
export async function submitFailure(
  routed: RoutedEvent,
  error: unknown,
  label: string,
  api: ApiClient,
): Promise<Id | undefined> {
  if (routed.name !== 'service-invoked') return undefined;
  const id = await replyId(routed, 'invocationId', label, api);
  const message = error instanceof Error ? error.message : String(error);
  await api.submitInvocation(id, { status: 'failed', error: message || 'the handler failed' });
  return id;
}

/**
 * A message frame for `ctx.reply`/`ctx.send`; checked like a returned reply. `messageId` is the
 * deterministic id of the run's next message (reply-ids.ts); without one, a random id.
 */
export function messageFrame(employmentId: Id, content: MessageContent, messageId?: string): ClientFrame {
  const parsed = messageReplySchema.safeParse(content);
  if (!parsed.success) {
    throw new C4cError(
      'E_REPLY',
      `a message must be a string or { content, metadata? }, got ${describeValue(content, 60)}`,
    );
  }
  return frameOf(employmentId, parsed.data, messageId);
}

/**
 * The frame of a `message` handler's returned reply, checked once (`undefined`/`null`: no reply).
 * Throws `C4cError('E_REPLY')` naming the file when the value is not a message reply.
 */
export function replyFrame(
  employmentId: Id,
  value: unknown,
  label: string,
  messageId: string | undefined,
): ClientFrame | undefined {
  if (value === undefined || value === null) return undefined;
  // Any string is a message reply (the schema's first option, `z.string()`, has no checks): the
  // common case skips the parse, whose cold run was a few µs per reply at one message in flight.
  if (typeof value === 'string') return frameOf(employmentId, value, messageId);
  const parsed = messageReplySchema.safeParse(value);
  if (!parsed.success) throw notAReply('message', label, value, parsed.error);
  return frameOf(employmentId, parsed.data, messageId);
}

/** A checked message reply as a frame (the schema already checked its metadata). */
function frameOf(employmentId: Id, reply: MessageContent, messageId?: string): ClientFrame {
  if (typeof reply === 'string')
    return {
      type: 'message',
      employmentId,
      messageId: messageId ?? newMessageId(),
      timestamp: rfc3339(),
      content: reply,
    };
  return {
    type: 'message',
    employmentId,
    messageId: messageId ?? newMessageId(),
    timestamp: rfc3339(),
    content: reply.content,
    ...(reply.metadata === undefined ? {} : { metadata: reply.metadata }),
  };
}

function notAReply(name: string, label: string, value: unknown, error: z.ZodError): C4cError {
  return new C4cError(
    'E_REPLY',
    `${label}: returned ${describeValue(value, 60)}, which is not a ${name} reply (${expected(name)}): ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    {
      details: { file: label, event: name },
    },
  );
}

function expected(name: string): string {
  switch (name) {
    case 'message':
      return 'expected a string or { content, metadata? }';
    case 'service-invoked':
      return 'expected an output object or a string';
    case 'task-accepted':
      return 'expected a string or { content, attachments?, notes? }';
    case 'employment-offered':
      return 'expected true/false or { accept, message?, reason? }';
    default:
      return 'expected nothing';
  }
}
